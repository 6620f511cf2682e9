import { useEffect, useState } from 'react';
import { SEEN_CHOICES, type DeviceFilters, type SeenFilter } from './device-filters';

interface Props {
  filters: DeviceFilters;
  onChange: (filters: DeviceFilters) => void;
}

const TYPING_PAUSE_MS = 350;

/** Search and filters; text fields apply after a pause in typing, menus at once. */
export function DeviceFilterBar({ filters, onChange }: Props) {
  const [draft, setDraft] = useState(filters);
  const applied = JSON.stringify(filters);

  useEffect(() => setDraft(JSON.parse(applied) as DeviceFilters), [applied]);
  useEffect(() => {
    if (JSON.stringify(draft) === applied) return;
    const timer = setTimeout(() => onChange(draft), TYPING_PAUSE_MS);
    return () => clearTimeout(timer);
  }, [draft, applied, onChange]);

  const text = (key: 'q' | 'tag' | 'app' | 'version', label: string, placeholder: string) => (
    <label className="form__field">
      <span>{label}</span>
      <input
        name={key}
        type={key === 'q' ? 'search' : 'text'}
        placeholder={placeholder}
        value={draft[key]}
        onChange={(e) => setDraft({ ...draft, [key]: e.target.value })}
      />
    </label>
  );

  return (
    <form
      className="filters card"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        onChange(draft);
      }}
    >
      {text('q', 'Search', 'device id')}
      {text('tag', 'Tag', 'any')}
      {text('app', 'App', 'any')}
      {text('version', 'Version', 'any')}
      <label className="form__field">
        <span>Connection</span>
        <select
          name="online"
          value={draft.online}
          onChange={(e) =>
            onChange({ ...draft, online: e.target.value as DeviceFilters['online'] })
          }
        >
          <option value="">Online or offline</option>
          <option value="true">Online</option>
          <option value="false">Offline</option>
        </select>
      </label>
      <label className="form__field">
        <span>Last seen</span>
        <select
          name="seen"
          value={draft.seen}
          onChange={(e) => onChange({ ...draft, seen: e.target.value as SeenFilter })}
        >
          {SEEN_CHOICES.map((c) => (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ))}
        </select>
      </label>
      {Object.values(filters).some(Boolean) && (
        <button
          type="button"
          className="button filters__clear"
          onClick={() => onChange({ q: '', tag: '', app: '', version: '', online: '', seen: '' })}
        >
          Clear filters
        </button>
      )}
    </form>
  );
}
