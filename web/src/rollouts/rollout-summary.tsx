import type { RolloutView } from '../api/types';
import { formatDuration, formatPercent } from '../format/format';
import { progressOf } from '../ui/action-states';
import { StackedBar } from '../ui/stacked-bar';

/** The headline: how far the rollout is, overall. */
export function RolloutSummary({ rollout }: { rollout: RolloutView }) {
  const p = progressOf(rollout.counts);
  const end = rollout.finishedAt ?? Date.now();
  return (
    <section className="card summary" aria-label="Progress">
      <div className="summary__figures">
        <span className="summary__percent" data-testid="rollout-percent">
          {formatPercent(p.finished, p.total)}
        </span>
        <span>
          done · <strong>{p.succeeded}</strong> of {p.total} upgraded
          {p.errors > 0 && (
            <>
              {' '}
              · <strong className="text-bad">{p.errors}</strong> failed
            </>
          )}
          {p.working > 0 && <> · {p.working} in progress</>}
        </span>
        <span className="muted small">
          batch {Math.min(rollout.currentBatch + 1, rollout.batchCount)} of {rollout.batchCount} ·{' '}
          {rollout.finishedAt ? 'took' : 'running for'}{' '}
          {formatDuration((end - rollout.createdAt) / 1000)}
        </span>
      </div>
      <StackedBar counts={rollout.counts} label="All devices" />
    </section>
  );
}
