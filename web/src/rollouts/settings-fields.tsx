import { humanize } from '../format/format';
import { SettingInput } from './setting-input';
import { PRIMARY_SETTINGS, SETTING_HINTS } from './setting-hints';

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
  if (!defaults) {
    return (
      <fieldset className="form__group">
        <legend>Batches and timing</legend>
        <p className="muted small">The engine's settings appear here with the first plan.</p>
      </fieldset>
    );
  }

  const set = (key: string, value: unknown) => {
    const next = { ...changed };
    if (value === undefined) delete next[key];
    else next[key] = value;
    onChange(next);
  };
  const field = (key: string) => (
    <SettingInput
      key={key}
      name={key}
      label={humanize(key)}
      hint={SETTING_HINTS[key]}
      value={key in changed ? changed[key] : defaults[key]}
      onChange={(value) => set(key, value)}
    />
  );
  const keys = Object.keys(defaults);
  const primary = keys.filter((k) => PRIMARY_SETTINGS.includes(k));
  const more = keys.filter((k) => !PRIMARY_SETTINGS.includes(k));

  return (
    <fieldset className="form__group">
      <legend>Batches and timing</legend>
      <div className="form__row">{primary.map(field)}</div>
      {more.length > 0 && (
        <details className="more-settings">
          <summary>More settings ({more.length})</summary>
          <div className="form__row">{more.map(field)}</div>
        </details>
      )}
      {Object.keys(changed).length > 0 && (
        <button type="button" className="link-button" onClick={() => onChange({})}>
          Back to the server's defaults
        </button>
      )}
    </fieldset>
  );
}
