import type { PackageView } from '../api/types';
import type { RolloutDraft } from './rollout-draft';

interface Props {
  draft: RolloutDraft;
  pkg: PackageView | undefined;
  onChange: (draft: RolloutDraft) => void;
}

/** Which devices: listed ids, tags, an app (below a version). The API joins them with AND. */
export function TargetFields({ draft, pkg, onChange }: Props) {
  const set = (key: 'devices' | 'tags' | 'app' | 'versionBelow') => (value: string) =>
    onChange({ ...draft, [key]: value });

  return (
    <fieldset className="form__group">
      <legend>Devices</legend>
      <p className="muted small">A device must match every field you fill in.</p>
      <label className="form__field">
        <span>Device ids</span>
        <textarea
          name="devices"
          rows={2}
          placeholder="lab-1, lab-2 …"
          value={draft.devices}
          onChange={(e) => set('devices')(e.target.value)}
        />
      </label>
      <div className="form__row">
        <label className="form__field">
          <span>With any of the tags</span>
          <input
            name="tags"
            placeholder="lab, eu-west"
            value={draft.tags}
            onChange={(e) => set('tags')(e.target.value)}
          />
        </label>
        <label className="form__field">
          <span>Running app</span>
          <input name="app" value={draft.app} onChange={(e) => set('app')(e.target.value)} />
        </label>
        <label className="form__field">
          <span>At a version below</span>
          <input
            name="versionBelow"
            value={draft.versionBelow}
            onChange={(e) => set('versionBelow')(e.target.value)}
          />
        </label>
      </div>
      {pkg && (
        <button
          type="button"
          className="link-button"
          onClick={() => onChange({ ...draft, app: pkg.app, versionBelow: pkg.version })}
        >
          Every device running {pkg.app} below {pkg.version}
        </button>
      )}
    </fieldset>
  );
}
