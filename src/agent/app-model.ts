import type { HelloMessage, InstallCommand, StatusMessage } from '../shared/protocol/index.js';
import type { OtaReason } from './ota-reasons.js';

/**
 * The TiJOS app model, kept by the agent (TIJOS.md, "The app model"): up to 32 apps with
 * integer ids, one autorun app that runs at boot. Plus what the agent must remember across
 * restarts: the install on trial, the download in progress, the commands already seen and the
 * reports not yet acknowledged. Stored as JSON; field meanings never change within `v: 1`.
 */
export const MAX_APPS = 32;
/** `"<oldAppId> <url>"` leaves room for 4 digits (DESIGN: URL contract). */
export const MAX_APP_ID = 9999;
/** How many command ids (and malformed payload hashes) are remembered for de-duplication. */
export const SEEN_LIMIT = 128;

export interface AppRecord {
  readonly id: number;
  readonly name: string;
  readonly version: string;
  readonly description: string;
  /** Bytes; 0 for the app the device was provisioned with. */
  readonly size: number;
  /** TiJOS app type: 0 generic, 1 shell. Agent-installed apps are generic. */
  readonly type: 0 | 1;
  /** Package file relative to the data folder; null for the provisioned app. */
  readonly file: string | null;
  readonly sha256: string | null;
}

/**
 * An installed app on trial: it runs at the next boot, and becomes the autorun app only after
 * it stayed healthy through the health window. `booted` is set (and written) before the app
 * starts, so finding it set at boot means the device restarted inside the window.
 */
export interface TrialState {
  readonly cmd: string;
  readonly newAppId: number;
  /** The OTA argument: the app to delete after success, or -1 to keep it. */
  readonly oldAppId: number;
  readonly booted: boolean;
  readonly failure: { readonly reason: OtaReason; readonly detail: string } | null;
}

/** A command being downloaded; survives a restart so the download resumes. */
export interface JobState {
  readonly cmd: InstallCommand;
  /** The OTA app's argument string, `"<oldAppId> <url>"`. */
  readonly args: string;
  /** Partial download, relative to the data folder. */
  readonly partFile: string;
  /** Validator of the bytes on disk, sent back in `If-Range` when resuming. */
  readonly etag: string | null;
}

export interface AgentState {
  readonly v: 1;
  apps: AppRecord[];
  autorun: number;
  nextAppId: number;
  trial: TrialState | null;
  job: JobState | null;
  /** Recent command ids and `payload:<sha256>` keys of rejected payloads, oldest first. */
  seen: string[];
  /** Final reports not yet acknowledged by the broker (PUBACK), oldest first. */
  outbox: StatusMessage[];
  /** Outcome of the last command executed, sent in every hello. */
  last: NonNullable<HelloMessage['last']> | null;
  /** Boots of the device process, counted from provisioning (for logs). */
  boots: number;
}

export function initialState(app: { name: string; version: string }): AgentState {
  return {
    v: 1,
    apps: [
      {
        id: 1,
        name: app.name,
        version: app.version,
        description: 'provisioned app',
        size: 0,
        type: 0,
        file: null,
        sha256: null,
      },
    ],
    autorun: 1,
    nextAppId: 2,
    trial: null,
    job: null,
    seen: [],
    outbox: [],
    last: null,
    boots: 0,
  };
}

export function findApp(state: AgentState, id: number): AppRecord | undefined {
  return state.apps.find((app) => app.id === id);
}

/** The app the device runs now: the one on trial once it booted, otherwise the autorun app. */
export function runningApp(state: AgentState): AppRecord {
  const id = state.trial?.booted && !state.trial.failure ? state.trial.newAppId : state.autorun;
  const app = findApp(state, id) ?? findApp(state, state.autorun);
  if (!app) throw new Error(`state is corrupt: autorun app ${state.autorun} is not installed`);
  return app;
}

/** Next free app id, counting up and wrapping so a deleted app's id is not reused at once. */
export function allocateAppId(state: AgentState): number {
  for (let i = 0; i < MAX_APP_ID; i++) {
    const id = ((state.nextAppId - 1 + i) % MAX_APP_ID) + 1;
    if (!findApp(state, id)) {
      state.nextAppId = (id % MAX_APP_ID) + 1;
      return id;
    }
  }
  throw new Error('no free app id');
}

export function removeApp(state: AgentState, id: number): AppRecord | undefined {
  const app = findApp(state, id);
  state.apps = state.apps.filter((a) => a.id !== id);
  return app;
}

export function rememberSeen(state: AgentState, key: string): void {
  state.seen = [...state.seen.filter((k) => k !== key), key].slice(-SEEN_LIMIT);
}
