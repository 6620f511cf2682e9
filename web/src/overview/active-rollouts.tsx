import type { RolloutView } from '../api/types';
import { formatPercent } from '../format/format';
import { progressOf } from '../ui/action-states';
import { EmptyState } from '../ui/empty-state';
import { StackedBar } from '../ui/stacked-bar';
import { StateBadge } from '../ui/state-badge';

export function ActiveRollouts({ rollouts }: { rollouts: RolloutView[] }) {
  if (rollouts.length === 0) {
    return (
      <EmptyState title="No rollout is running">
        <a href="#/rollouts/new">Start a rollout</a> to upgrade devices.
      </EmptyState>
    );
  }
  return (
    <ul className="list">
      {rollouts.map((r) => {
        const p = progressOf(r.counts);
        return (
          <li key={r.id} className="list__item">
            <div className="list__line">
              <a href={`#/rollouts/${r.id}`}>
                #{r.id} {r.name}
              </a>
              <StateBadge state={r.status} />
            </div>
            <StackedBar counts={r.counts} label={`Rollout ${r.id}`} thin />
            <span className="muted small">
              {formatPercent(p.finished, p.total)} done · {p.succeeded} of {p.total} upgraded
              {p.errors ? ` · ${p.errors} failed` : ''}
            </span>
          </li>
        );
      })}
    </ul>
  );
}
