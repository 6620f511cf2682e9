import type { RolloutView } from '../api/types';
import { fieldLabel, formatField } from '../format/format-field';
import { progressOf } from '../ui/action-states';
import { StackedBar } from '../ui/stacked-bar';

/** Batch fields with a view of their own; others are listed under the bar. */
const OWN = ['batch', 'size', 'counts', 'canary', 'started'];

/** A bar per batch; the batch being worked on is marked. Extra batch fields are listed. */
export function BatchProgress({ rollout }: { rollout: RolloutView }) {
  const active = rollout.status === 'running' || rollout.status === 'paused';
  return (
    <ol className="batches">
      {rollout.batches.map((b) => {
        const p = progressOf(b.counts);
        const current = active && b.batch === rollout.currentBatch;
        const extra = Object.keys(b).filter((k) => !OWN.includes(k));
        return (
          <li
            key={b.batch}
            className={current ? 'batches__item batches__item--current' : 'batches__item'}
          >
            <div className="list__line">
              <span>
                Batch {b.batch + 1}
                {b.canary === true && <span className="tag">canary</span>}
                {current && <span className="tag">current</span>}
                {b.started === false && <span className="muted small"> · not started</span>}
              </span>
              <span className="muted small">
                {p.finished}/{b.size} done
                {p.errors > 0 && <span className="text-bad"> · {p.errors} failed</span>}
              </span>
            </div>
            <StackedBar counts={b.counts} total={b.size} label={`Batch ${b.batch + 1}`} />
            {extra.length > 0 && (
              <span className="muted small">
                {extra.map((k) => `${fieldLabel(k)}: ${formatField(k, b[k])}`).join(' · ')}
              </span>
            )}
          </li>
        );
      })}
    </ol>
  );
}
