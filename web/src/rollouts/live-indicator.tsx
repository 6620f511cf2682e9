import type { StreamState } from '../api/rollout-event-stream';

const TEXT: Record<StreamState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Connection lost — reconnecting…',
};

export function LiveIndicator({ state }: { state: StreamState }) {
  return (
    <span className={`live live--${state}`} role="status" aria-live="polite">
      <span className="live__dot" aria-hidden="true" />
      {TEXT[state]}
    </span>
  );
}
