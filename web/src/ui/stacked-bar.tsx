import { formatPercent } from '../format/format';
import { orderedStates, stateLabel } from './action-states';

interface Props {
  counts: Record<string, number>;
  /** Width 100 % stands for this many; defaults to the sum of the counts. */
  total?: number;
  label: string;
  thin?: boolean;
}

/** A progress bar split by state: green done, blue working, red failed, grey waiting. */
export function StackedBar({ counts, total, label, thin }: Props) {
  const whole = total ?? Object.values(counts).reduce((n, c) => n + c, 0);
  const states = orderedStates(counts).filter((s) => counts[s] > 0);
  const summary = states.map((s) => `${stateLabel(s)} ${counts[s]}`).join(', ');

  return (
    <div
      className={thin ? 'bar bar--thin' : 'bar'}
      role="img"
      aria-label={`${label}: ${summary || 'nothing yet'}`}
    >
      {states.map((state) => (
        <span
          key={state}
          className={`bar__seg state-bg--${state}`}
          style={{ width: whole ? `${(counts[state] / whole) * 100}%` : 0 }}
          title={`${stateLabel(state)}: ${counts[state]} (${formatPercent(counts[state], whole)})`}
        />
      ))}
    </div>
  );
}
