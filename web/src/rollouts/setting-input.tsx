import { useEffect, useState, type ReactNode } from 'react';
import { humanize } from '../format/format';
import { SETTING_CHOICES } from './setting-hints';

interface Props {
  name: string;
  label: string;
  hint?: string;
  value: unknown;
  /** `undefined` puts the server's default back. */
  onChange: (value: unknown) => void;
}

/**
 * One setting: a switch for a yes/no, a menu for a closed list, a group for an object, JSON for
 * a list, and a text field for the rest — numbers and quantities alike ("5" or "10%"), read
 * back as a number where the text is one. The server checks the value and says what is wrong.
 */
export function SettingInput({ name, label, hint, value, onChange }: Props) {
  if (typeof value === 'boolean') {
    return (
      <label className="form__check">
        <input
          type="checkbox"
          name={name}
          checked={value}
          onChange={(e) => onChange(e.target.checked)}
        />
        {label}
      </label>
    );
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const group = value as Record<string, unknown>;
    return (
      <fieldset className="form__group form__group--nested">
        <legend>{label}</legend>
        {Object.entries(group).map(([key, inner]) => (
          <SettingInput
            key={key}
            name={`${name}.${key}`}
            label={humanize(key)}
            value={inner}
            onChange={(next) => onChange({ ...group, [key]: next })}
          />
        ))}
      </fieldset>
    );
  }
  const choices = SETTING_CHOICES[name];
  if (choices && typeof value === 'string') {
    return (
      <Field label={label} hint={hint}>
        <select name={name} value={value} onChange={(e) => onChange(e.target.value)}>
          {[...new Set([...choices, value])].map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
      </Field>
    );
  }
  if (Array.isArray(value)) {
    return (
      <TextSetting name={name} label={label} hint={hint} value={value} json onChange={onChange} />
    );
  }
  return <TextSetting name={name} label={label} hint={hint} value={value} onChange={onChange} />;
}

function TextSetting({ name, label, hint, value, json, onChange }: Props & { json?: boolean }) {
  const shown = json ? JSON.stringify(value) : value === null ? 'none' : String(value);
  const [text, setText] = useState(shown);
  const [bad, setBad] = useState(false);
  // Follow changes made elsewhere (back to defaults) without fighting the typing.
  useEffect(() => setText((t) => (sameValue(t, value, json) ? t : shown)), [shown, value, json]);

  return (
    <Field label={label} hint={hint}>
      <input
        name={name}
        value={text}
        aria-invalid={bad}
        inputMode={typeof value === 'number' ? 'decimal' : undefined}
        onChange={(e) => {
          setText(e.target.value);
          const parsed = readText(e.target.value, json);
          setBad(parsed === INVALID);
          if (parsed !== INVALID) onChange(parsed);
        }}
      />
    </Field>
  );
}

function Field({ label, hint, children }: { label: string; hint?: string; children: ReactNode }) {
  return (
    <label className="form__field">
      <span>{label}</span>
      {children}
      {hint && <small className="muted">{hint}</small>}
    </label>
  );
}

const INVALID = Symbol('invalid');

/** Empty: the default; "none": null; a number: a number; anything else: the text as typed. */
function readText(text: string, json?: boolean): unknown {
  const t = text.trim();
  if (t === '') return undefined;
  if (json) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return INVALID;
    }
  }
  if (/^(none|null|never)$/i.test(t)) return null;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  return t;
}

function sameValue(text: string, value: unknown, json?: boolean): boolean {
  const read = readText(text, json);
  return read === undefined || JSON.stringify(read) === JSON.stringify(value);
}
