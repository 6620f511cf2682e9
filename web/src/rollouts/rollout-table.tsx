import type { RolloutView } from '../api/types';
import { formatAgo, formatPercent } from '../format/format';
import { progressOf } from '../ui/action-states';
import { EmptyState } from '../ui/empty-state';
import { StackedBar } from '../ui/stacked-bar';
import { StateBadge } from '../ui/state-badge';

export function RolloutTable({
  rollouts,
  filtered,
}: {
  rollouts: RolloutView[];
  filtered: boolean;
}) {
  if (rollouts.length === 0) {
    return filtered ? (
      <EmptyState title="No rollout has this status" />
    ) : (
      <EmptyState title="No rollouts yet">
        Upload a package, then <a href="#/rollouts/new">start a rollout</a>: you will see the batch
        plan before anything is sent.
      </EmptyState>
    );
  }
  return (
    <div className="table-wrap">
      <table className="table">
        <thead>
          <tr>
            <th>Rollout</th>
            <th>Status</th>
            <th className="col-progress">Progress</th>
            <th className="wide-only">Package</th>
            <th className="wide-only">Started</th>
          </tr>
        </thead>
        <tbody>
          {rollouts.map((r) => {
            const p = progressOf(r.counts);
            return (
              <tr key={r.id}>
                <td>
                  <a href={`#/rollouts/${r.id}`}>
                    #{r.id} {r.name}
                  </a>
                </td>
                <td>
                  <StateBadge state={r.status} />
                </td>
                <td className="col-progress">
                  <StackedBar counts={r.counts} label={`Rollout ${r.id}`} thin />
                  <span className="muted small">
                    {formatPercent(p.finished, p.total)} · {p.succeeded}/{p.total} upgraded
                    {p.errors ? ` · ${p.errors} failed` : ''}
                  </span>
                </td>
                <td className="wide-only">
                  <a href={`#/packages/${r.package.id}`}>
                    {r.package.app} {r.package.version}
                  </a>
                </td>
                <td className="wide-only">
                  {formatAgo(r.createdAt)} by {r.createdBy}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
