import type { RolloutView } from '../api/types';
import { formatAgo, formatDuration, formatPercent } from '../format/format';
import { formatField } from '../format/format-field';
import { ERROR_STATES, progressOf } from '../ui/action-states';
import { StackedBar } from '../ui/stacked-bar';
import { useNow } from '../ui/use-now';
import { expectedDurationKey } from './plan-fields';

/** The headline: how far the rollout is, overall. */
export function RolloutSummary({ rollout }: { rollout: RolloutView }) {
  const p = progressOf(rollout.counts);
  const now = useNow(rollout.finishedAt === null);
  const end = rollout.finishedAt ?? now;
  const expected = rollout.plan ? expectedDurationKey(rollout.plan) : undefined;
  const soaking = rollout.soakUntil && rollout.soakUntil > now ? rollout.soakUntil : null;
  return (
    <section className="card summary" aria-label="Progress">
      <div className="summary__figures">
        <span className="summary__percent" data-testid="rollout-percent">
          {formatPercent(p.finished, p.total)}
        </span>
        <span>
          done · <strong>{p.succeeded}</strong> of {p.total} upgraded
          {ERROR_STATES.filter((state) => (rollout.counts[state] ?? 0) > 0).map((state) => (
            <span key={state}>
              {' '}
              · <strong className="text-bad">{rollout.counts[state]}</strong>{' '}
              {state.replace('_', ' ')}
            </span>
          ))}
          {p.working > 0 && <> · {p.working} in progress</>}
        </span>
        <span className="muted small">
          batch {Math.min(rollout.currentBatch + 1, rollout.batchCount)} of {rollout.batchCount} ·{' '}
          {rollout.finishedAt
            ? `took ${formatDuration((end - rollout.createdAt) / 1000)}`
            : rollout.status === 'paused'
              ? `paused, started ${formatDuration((end - rollout.createdAt) / 1000)} ago`
              : `running for ${formatDuration((end - rollout.createdAt) / 1000)}`}
          {expected && rollout.plan && (
            <> (expected {formatField(expected, rollout.plan[expected])})</>
          )}
          {soaking && <> · next batch {formatAgo(soaking, now)}</>}
        </span>
      </div>
      <StackedBar counts={rollout.counts} label="All devices" />
    </section>
  );
}
