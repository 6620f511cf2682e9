import type { RolloutAction } from '../api/types';
import { formatAgo, formatBytes } from '../format/format';
import { href } from '../router/hash-route';
import { EmptyState } from '../ui/empty-state';
import { ErrorNotice } from '../ui/error-notice';
import { StateBadge } from '../ui/state-badge';

const SHOWN = 200;

interface Props {
  actions: RolloutAction[] | undefined;
  error: unknown;
  /** Too many devices to list them all: the operator picks a state first. */
  mustPick: boolean;
}

export function RolloutDevices({ actions, error, mustPick }: Props) {
  if (mustPick) {
    return <EmptyState title="Pick a state above to list its devices" />;
  }
  if (error !== undefined) return <ErrorNotice error={error} title="Could not load the devices" />;
  if (!actions) return <p className="muted card__pad">Loading…</p>;
  if (actions.length === 0) return <EmptyState title="No device in this state" />;

  return (
    <div className="table-wrap">
      <table className="table">
        <thead>
          <tr>
            <th>Device</th>
            <th>State</th>
            <th className="wide-only">Batch</th>
            <th className="wide-only">From</th>
            <th className="wide-only">Served</th>
            <th>Error</th>
            <th className="wide-only">Updated</th>
          </tr>
        </thead>
        <tbody>
          {actions.slice(0, SHOWN).map((a) => (
            <tr key={a.id}>
              <td>
                <a href={href(['devices', a.deviceId])}>{a.deviceId}</a>
              </td>
              <td>
                <StateBadge state={a.state} />
                {a.attempt > 1 && <span className="muted small"> try {a.attempt}</span>}
              </td>
              <td className="wide-only">{a.batch + 1}</td>
              <td className="wide-only">{a.fromVersion ?? '—'}</td>
              <td className="wide-only">{a.bytesServed ? formatBytes(a.bytesServed) : '—'}</td>
              <td>{a.errorCode ? <code>{a.errorCode}</code> : ''}</td>
              <td className="wide-only">{formatAgo(a.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {actions.length > SHOWN && (
        <p className="muted small card__pad">
          Showing {SHOWN} of {actions.length.toLocaleString()}; pick a state above to narrow the
          list.
        </p>
      )}
    </div>
  );
}
