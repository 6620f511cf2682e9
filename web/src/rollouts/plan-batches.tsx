import type { RolloutPlan } from '../api/types';
import { fieldLabel, formatField } from '../format/format-field';

const SHOWN_IDS = 4;
/** Batch fields with a view of their own. */
const OWN = ['batch', 'size', 'devices', 'canary'];

/** The planned batches, with whatever per-batch fields the engine reports (expected time…). */
export function PlanBatches({ batches }: { batches: RolloutPlan['batches'] }) {
  const extra = [...new Set(batches.flatMap((b) => Object.keys(b)))].filter(
    (k) => !OWN.includes(k),
  );
  return (
    <div className="table-wrap">
      <table className="table table--compact" aria-label="Batches">
        <thead>
          <tr>
            <th>Batch</th>
            <th>Devices</th>
            {extra.map((k) => (
              <th key={k}>{fieldLabel(k)}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {batches.map((b) => (
            <tr key={b.batch}>
              <td>
                {b.batch + 1}
                {b.canary === true && <span className="tag">canary</span>}
              </td>
              <td>
                <strong>{b.size}</strong>
                {b.devices && <DeviceIds ids={b.devices} />}
              </td>
              {extra.map((k) => (
                <td key={k}>{formatField(k, b[k])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DeviceIds({ ids }: { ids: string[] }) {
  if (ids.length <= SHOWN_IDS) return <span className="muted small"> {ids.join(', ')}</span>;
  return (
    <details className="small">
      <summary className="muted">
        {ids.slice(0, SHOWN_IDS).join(', ')} +{ids.length - SHOWN_IDS} more
      </summary>
      {ids.join(', ')}
    </details>
  );
}
