import type { RolloutView } from '../api/types';
import { formatDate } from '../format/format';
import { FieldList } from '../ui/field-list';
import { FieldRow } from '../ui/field-row';

/** Fields with a view of their own; anything newer servers add is listed under "More". */
const SHOWN = [
  'id',
  'name',
  'status',
  'package',
  'target',
  'settings',
  'currentBatch',
  'batchCount',
  'pauseReason',
  'createdBy',
  'createdAt',
  'finishedAt',
  'counts',
  'batches',
  'plan',
  'soakUntil',
];

export function RolloutDetails({ rollout }: { rollout: RolloutView }) {
  return (
    <section className="card">
      <h2>Details</h2>
      <div className="grid-2">
        <dl className="fields">
          <FieldRow label="Package">
            <a href={`#/packages/${rollout.package.id}`}>
              {rollout.package.app} {rollout.package.version}
            </a>
          </FieldRow>
          <FieldRow label="Started">
            {formatDate(rollout.createdAt)} by {rollout.createdBy}
          </FieldRow>
          <FieldRow label="Finished">{formatDate(rollout.finishedAt)}</FieldRow>
        </dl>
        <div>
          <h3>Target</h3>
          <FieldList fields={rollout.target} />
          {rollout.plan && (
            <details className="more-settings">
              <summary>Plan made at the start</summary>
              <FieldList fields={rollout.plan} skip={['batches']} />
            </details>
          )}
          <details className="more-settings">
            <summary>Settings</summary>
            <FieldList fields={rollout.settings} />
          </details>
        </div>
      </div>
      <FieldList fields={rollout} skip={SHOWN} />
    </section>
  );
}
