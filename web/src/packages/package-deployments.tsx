import type { PackageView, RolloutView } from '../api/types';
import { formatAgo, formatPercent } from '../format/format';
import { href } from '../router/hash-route';
import { progressOf } from '../ui/action-states';
import { EmptyState } from '../ui/empty-state';
import { StackedBar } from '../ui/stacked-bar';
import { StateBadge } from '../ui/state-badge';

interface Props {
  pkg: PackageView;
  runningOn: number;
  rollouts: RolloutView[];
}

/** Where a package is: devices that run it now, and the rollouts that sent it. */
export function PackageDeployments({ pkg, runningOn, rollouts }: Props) {
  return (
    <section className="card">
      <h2>Where it is deployed</h2>
      <p>
        Running on{' '}
        <a href={href(['devices'], { app: pkg.app, version: pkg.version })}>
          <strong>{runningOn.toLocaleString()}</strong> {runningOn === 1 ? 'device' : 'devices'}
        </a>{' '}
        now.
      </p>
      {rollouts.length === 0 ? (
        <EmptyState title="No rollout has used this package yet">
          <a href={`#/rollouts/new?package=${pkg.id}`}>Start one</a>.
        </EmptyState>
      ) : (
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
                  {p.succeeded} of {p.total} upgraded ({formatPercent(p.succeeded, p.total)}) ·
                  started {formatAgo(r.createdAt)}
                </span>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
