import { useState } from 'react';
import { humanize } from '../format/format';

interface Props {
  name: string;
  label: string;
  hint?: string;
  value: unknown;
  onChange: (value: unknown) => void;
}

/** One setting: a number, switch or text field, a group for an object, JSON for the rest. */
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
  if (typeof value === 'number' || typeof value === 'string') {
    const numeric = typeof value === 'number';
    return (
      <label className="form__field">
        <span>
          {label}
          {hint && <small className="muted"> — {hint}</small>}
        </span>
        <input
          name={name}
          type={numeric ? 'number' : 'text'}
          min={numeric ? 0 : undefined}
          step="any"
          value={String(value)}
          onChange={(e) => onChange(numeric ? Number(e.target.value) : e.target.value)}
        />
      </label>
    );
  }
  return <JsonInput name={name} label={label} value={value} onChange={onChange} />;
}

function JsonInput({ name, label, value, onChange }: Omit<Props, 'hint'>) {
  const [text, setText] = useState(() => JSON.stringify(value));
  const [bad, setBad] = useState(false);
  return (
    <label className="form__field">
      <span>
        {label} <small className="muted">(JSON)</small>
      </span>
      <textarea
        name={name}
        rows={2}
        value={text}
        aria-invalid={bad}
        onChange={(e) => {
          setText(e.target.value);
          try {
            onChange(JSON.parse(e.target.value));
            setBad(false);
          } catch {
            setBad(true);
          }
        }}
      />
    </label>
  );
}
