import { stateLabel } from './action-states';

/** A coloured label for an action or rollout state; unknown states get the neutral colour. */
export function StateBadge({ state }: { state: string }) {
  return <span className={`badge state-badge--${state}`}>{stateLabel(state)}</span>;
}
