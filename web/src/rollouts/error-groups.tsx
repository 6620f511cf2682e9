import type { RolloutAction } from '../api/types';
import { href } from '../router/hash-route';
import { stateLabel } from '../ui/action-states';
import { EmptyState } from '../ui/empty-state';
import { ErrorNotice } from '../ui/error-notice';

const SHOWN_DEVICES = 5;

interface Group {
  reason: string;
  states: Set<string>;
  detail: string | null;
  devices: string[];
}

/** Failed, rolled-back and timed-out devices, grouped by the reason code the server recorded. */
export function ErrorGroups({
  actions,
  error,
}: {
  actions: RolloutAction[] | undefined;
  error: unknown;
}) {
  if (error !== undefined)
    return <ErrorNotice error={error} title="Could not load the failed devices" />;
  if (!actions) return <p className="muted">Loading…</p>;
  if (actions.length === 0) return <EmptyState title="No device has failed" />;

  const groups = new Map<string, Group>();
  for (const a of actions) {
    const reason = a.errorCode ?? 'unspecified';
    const group = groups.get(reason) ?? {
      reason,
      states: new Set(),
      detail: a.errorDetail,
      devices: [],
    };
    group.states.add(a.state);
    group.devices.push(a.deviceId);
    groups.set(reason, group);
  }
  const sorted = [...groups.values()].sort((a, b) => b.devices.length - a.devices.length);

  return (
    <ul className="list" aria-label="Errors by reason">
      {sorted.map((g) => (
        <li key={g.reason} className="list__item error-group">
          <div className="list__line">
            <code className="code-chip code-chip--bad">{g.reason}</code>
            <strong>
              {g.devices.length} {g.devices.length === 1 ? 'device' : 'devices'}
            </strong>
          </div>
          <span className="muted small">
            {[...g.states].map(stateLabel).join(', ')}
            {g.detail && ` · ${g.detail}`}
          </span>
          <span className="inline-list small">
            {g.devices.slice(0, SHOWN_DEVICES).map((d) => (
              <a key={d} className="inline-list__item" href={href(['devices', d])}>
                {d}
              </a>
            ))}
            {g.devices.length > SHOWN_DEVICES && (
              <span className="muted">+{g.devices.length - SHOWN_DEVICES} more</span>
            )}
          </span>
        </li>
      ))}
    </ul>
  );
}
