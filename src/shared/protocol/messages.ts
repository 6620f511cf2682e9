/**
 * MQTT payloads: small JSON a constrained device can build and parse. Every field is
 * documented in docs/protocol.md; field names never change meaning within `v: 1`.
 */

/** Server → device: install a package. */
export interface InstallCommand {
  readonly v: 1;
  readonly op: 'install';
  /** Unique per attempt; the device echoes it in status reports and executes it once. */
  readonly id: string;
  /** App name (the .tapk trailer name for TiJOS packages). */
  readonly app: string;
  readonly version: string;
  /** Short signed URL, < 128 characters with `"<oldAppId> "` in front, no spaces. */
  readonly url: string;
  readonly size: number;
  /** Hex SHA-256 of the package. */
  readonly sha256: string;
  /** Base64 Ed25519 signature over the manifest (see manifestText). */
  readonly sig: string;
  /** Unix seconds after which the URL no longer works. */
  readonly exp: number;
}

/** Server → device: forget a command that has not started (rollout canceled). */
export interface CancelCommand {
  readonly v: 1;
  readonly op: 'cancel';
  readonly id: string;
}

export type DeviceCommand = InstallCommand | CancelCommand;

/** Device → server on every connect. */
export interface HelloMessage {
  /** Name of the app now running. */
  readonly app: string;
  /** Version of the app now running, as built into it. */
  readonly version: string;
  /** TiJOS app id of the running app (what `"<oldAppId> <url>"` names). */
  readonly appId?: number;
  /** Free text: agent name/version or TiJOS firmware. */
  readonly agent?: string;
  /** 'tijos' or 'agent'. */
  readonly profile?: string;
  /**
   * Outcome of the last command this device executed, when it knows it (the agent does; a
   * TiJOS user app usually does not).
   */
  readonly last?: {
    readonly cmd: string;
    readonly state: ReportedState;
    readonly code?: number;
    /** Why it ended so, as the status report gave it (`app_crashed`): the hello may come first. */
    readonly reason?: string;
  };
  /**
   * The command the device is still executing after a mere reconnect (no restart). A hello
   * without it, reporting the old version after an install began, means the attempt failed.
   */
  readonly busy?: string;
}

/**
 * What a device may report about a command. `downloading` is also what a TiJOS user app
 * reports just before it starts the OTA app ("starting OTA").
 */
export type ReportedState =
  | 'accepted'
  | 'downloading'
  | 'downloaded'
  | 'installing'
  | 'restarting'
  | 'succeeded'
  | 'failed'
  | 'rolled_back'
  | 'rejected'
  | 'canceled';

export const REPORTED_STATES: readonly ReportedState[] = [
  'accepted',
  'downloading',
  'downloaded',
  'installing',
  'restarting',
  'succeeded',
  'failed',
  'rolled_back',
  'rejected',
  'canceled',
];

/** Device → server: progress or result of a command. */
export interface StatusMessage {
  readonly cmd: string;
  readonly state: ReportedState;
  /** TiJOS OTA result code (0 ok, -1 http, -2 timeout, -3 create, -4 write, -5 activate). */
  readonly code?: number;
  /** Stable reason code, e.g. `sha256_mismatch` (docs/protocol.md, "Reasons"). */
  readonly reason?: string;
  /** HTTP status of the download, when the failure came from it. */
  readonly http?: number;
  /** Bytes downloaded so far. */
  readonly bytes?: number;
  /** The version now running (on succeeded / rolled_back). */
  readonly version?: string;
  readonly detail?: string;
}

export interface PresenceMessage {
  readonly online: boolean;
}

/** The text the server signs for a package; the agent verifies the same text. */
export function manifestText(m: {
  app: string;
  version: string;
  size: number;
  sha256: string;
}): string {
  return `tiota-manifest-v1\n${m.app}\n${m.version}\n${m.size}\n${m.sha256}`;
}
