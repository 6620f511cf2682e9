import type { CreateRolloutBody, RolloutTarget } from '../api/types';

/** The creation form as typed; `toBody` turns it into the API's request. */
export interface RolloutDraft {
  packageId: string;
  name: string;
  /** Device ids separated by commas, spaces or new lines. */
  devices: string;
  /** Tags separated by commas or spaces. */
  tags: string;
  app: string;
  versionBelow: string;
  /** Only the settings the operator changed; the server fills in the rest. */
  settings: Record<string, unknown>;
}

export const EMPTY_DRAFT: RolloutDraft = {
  packageId: '',
  name: '',
  devices: '',
  tags: '',
  app: '',
  versionBelow: '',
  settings: {},
};

function words(text: string): string[] | undefined {
  const list = text.split(/[\s,]+/).filter(Boolean);
  return list.length ? list : undefined;
}

export function targetOf(draft: RolloutDraft): RolloutTarget {
  const target: RolloutTarget = {};
  const devices = words(draft.devices);
  const tags = words(draft.tags);
  if (devices) target.devices = devices;
  if (tags) target.tags = tags;
  if (draft.app.trim()) target.app = draft.app.trim();
  if (draft.versionBelow.trim()) target.versionBelow = draft.versionBelow.trim();
  return target;
}

/** Null until the draft names a package and some devices (the API needs both). */
export function toBody(draft: RolloutDraft): CreateRolloutBody | null {
  const target = targetOf(draft);
  if (!draft.packageId || !(target.devices || target.tags || target.app)) return null;
  return {
    ...(draft.name.trim() && { name: draft.name.trim() }),
    packageId: Number(draft.packageId),
    target,
    ...(Object.keys(draft.settings).length > 0 && { settings: draft.settings }),
  };
}
