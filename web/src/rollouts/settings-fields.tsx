import { humanize } from '../format/format';
import { SettingInput } from './setting-input';

/** What the known settings mean (docs/rollouts.md); newer settings show with their name only. */
const HINTS: Record<string, string> = {
  batchSize: 'devices per batch; 0 puts all in one batch',
  ackTimeoutSeconds: 'how long a device has to start after the command is sent',
  confirmTimeoutSeconds: 'from the start of the download to the report of the new version',
};

interface Props {
  /** The settings the engine would use, from the last plan; null before the first plan. */
  defaults: Record<string, unknown> | null;
  changed: Record<string, unknown>;
  onChange: (changed: Record<string, unknown>) => void;
}

/**
 * Every rollout setting the server reports, as a field of the matching kind. Built from the
 * plan rather than a fixed list, so settings added to the engine appear here by themselves.
 */
export function SettingsFields({ defaults, changed, onChange }: Props) {
  return (
    <fieldset className="form__group">
      <legend>Batches and timing</legend>
      {!defaults ? (
        <p className="muted small">The engine's settings appear here with the first plan.</p>
      ) : (
        <>
          <div className="form__row">
            {Object.entries(defaults).map(([key, value]) => (
              <SettingInput
                key={key}
                name={key}
                label={humanize(key)}
                hint={HINTS[key]}
                value={key in changed ? changed[key] : value}
                onChange={(next) => onChange({ ...changed, [key]: next })}
              />
            ))}
          </div>
          {Object.keys(changed).length > 0 && (
            <button type="button" className="link-button" onClick={() => onChange({})}>
              Back to the server's defaults
            </button>
          )}
        </>
      )}
    </fieldset>
  );
}
