import type { RolloutPlan } from '../api/types';
import { formatBytes } from '../format/format';
import { formatField } from '../format/format-field';
import { FieldList } from '../ui/field-list';
import { PlanBatches } from './plan-batches';
import { expectedDurationKey, planWarnings } from './plan-fields';

/** Plan fields with a view of their own; any other field the engine adds is listed as is. */
const SHOWN = ['dryRun', 'package', 'devices', 'settings', 'batches', 'warnings'];

interface Props {
  plan: RolloutPlan;
  /** The form changed since this plan was made; a new one is on its way. */
  stale: boolean;
}

export function PlanPreview({ plan, stale }: Props) {
  const devices = Array.isArray(plan.devices) ? plan.devices.length : Number(plan.devices);
  const durationKey = expectedDurationKey(plan);
  const warnings = planWarnings(plan);

  return (
    <div className={stale ? 'plan__body plan__body--stale' : 'plan__body'}>
      <p className="plan__headline">
        <strong>{devices.toLocaleString()}</strong> {devices === 1 ? 'device' : 'devices'} in{' '}
        <strong>{plan.batches.length}</strong> {plan.batches.length === 1 ? 'batch' : 'batches'}{' '}
        <span className="muted">
          · {plan.package.app} {plan.package.version}, {formatBytes(plan.package.size)} each
        </span>
      </p>
      <p className="plan__duration" data-testid="expected-duration">
        Expected duration:{' '}
        {durationKey ? (
          <strong>{formatField(durationKey, plan[durationKey])}</strong>
        ) : (
          <span className="muted">this server does not estimate it</span>
        )}
      </p>
      {warnings.map((w) => (
        <p key={w} className="notice notice--info" role="note">
          {w}
        </p>
      ))}
      <PlanBatches batches={plan.batches} />
      <FieldList fields={plan} skip={durationKey ? [...SHOWN, durationKey] : SHOWN} />
    </div>
  );
}
