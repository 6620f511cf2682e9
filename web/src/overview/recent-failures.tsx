import { formatAgo } from '../format/format';
import { href } from '../router/hash-route';
import { EmptyState } from '../ui/empty-state';
import { StateBadge } from '../ui/state-badge';
import type { Failure } from './load-overview';

export function RecentFailures({ failures }: { failures: Failure[] }) {
  if (failures.length === 0) {
    return <EmptyState title="No failures in recent rollouts" />;
  }
  return (
    <div className="table-wrap">
      <table className="table">
        <thead>
          <tr>
            <th>Device</th>
            <th>Outcome</th>
            <th>Reason</th>
            <th className="wide-only">Rollout</th>
            <th>When</th>
          </tr>
        </thead>
        <tbody>
          {failures.map(({ rollout, action }) => (
            <tr key={`${rollout.id}-${action.id}`}>
              <td>
                <a href={href(['devices', action.deviceId])}>{action.deviceId}</a>
              </td>
              <td>
                <StateBadge state={action.state} />
              </td>
              <td>
                <code>{action.errorCode ?? '—'}</code>
              </td>
              <td className="wide-only">
                <a href={`#/rollouts/${rollout.id}`}>
                  #{rollout.id} {rollout.name}
                </a>
              </td>
              <td>{formatAgo(action.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
