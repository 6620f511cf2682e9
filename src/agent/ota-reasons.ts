import type { ReportedState } from '../shared/protocol/index.js';

/**
 * TiJOS OTA result codes (TIJOS.md, "Its result codes"). The agent reports the same codes so
 * operators read one table for both kinds of device.
 */
export const OTA_OK = 0;
export const OTA_HTTP = -1;
export const OTA_TIMEOUT = -2;
export const OTA_CREATE = -3;
export const OTA_WRITE = -4;
export const OTA_ACTIVATE = -5;

/**
 * Every reason string the agent puts in a status report. Stored by the server and shown to
 * operators: never rename one or change its meaning (docs/agent.md, "Reasons").
 */
export const OTA_REASONS = {
  malformed_command: {
    state: 'rejected',
    code: undefined,
    text: 'the command could not be parsed or is incomplete',
  },
  signature_invalid: {
    state: 'failed',
    code: OTA_ACTIVATE,
    text: 'the signature does not match the pinned server key',
  },
  too_many_apps: { state: 'failed', code: OTA_CREATE, text: 'the device already holds 32 apps' },
  no_space: {
    state: 'failed',
    code: OTA_CREATE,
    text: 'the package is larger than the free app space',
  },
  bad_arguments: {
    state: 'failed',
    code: OTA_HTTP,
    text: 'the OTA arguments "<oldAppId> <url>" are malformed',
  },
  http_status: {
    state: 'failed',
    code: OTA_HTTP,
    text: 'the server answered with a status other than 200/206',
  },
  connection_failed: {
    state: 'failed',
    code: OTA_HTTP,
    text: 'the download kept failing at the network level',
  },
  body_short: {
    state: 'failed',
    code: OTA_HTTP,
    text: 'the body kept ending before its Content-Length',
  },
  timeout: { state: 'failed', code: OTA_TIMEOUT, text: 'the download did not finish in time' },
  size_exceeded: {
    state: 'failed',
    code: OTA_WRITE,
    text: 'the server sent or announced more bytes than the command size',
  },
  write_failed: {
    state: 'failed',
    code: OTA_WRITE,
    text: 'writing the package to the data folder failed',
  },
  sha256_mismatch: {
    state: 'failed',
    code: OTA_ACTIVATE,
    text: 'the downloaded bytes do not have the commanded SHA-256',
  },
  size_mismatch: {
    state: 'failed',
    code: OTA_ACTIVATE,
    text: 'the downloaded size differs from the commanded size',
  },
  tapk_invalid: {
    state: 'failed',
    code: OTA_ACTIVATE,
    text: 'the .tapk trailer or its CRC-16 is wrong',
  },
  install_failed: {
    state: 'failed',
    code: OTA_ACTIVATE,
    text: 'moving the package into its app slot failed',
  },
  app_crashed: {
    state: 'rolled_back',
    code: OTA_ACTIVATE,
    text: 'the new app exited inside the health window',
  },
  health_check_failed: {
    state: 'rolled_back',
    code: OTA_ACTIVATE,
    text: 'the health check failed inside the health window',
  },
  restarted_in_health_window: {
    state: 'rolled_back',
    code: OTA_ACTIVATE,
    text: 'the device restarted (power cut, kill) inside the health window',
  },
  app_start_failed: {
    state: 'rolled_back',
    code: OTA_ACTIVATE,
    text: 'the new app could not be started',
  },
  canceled: {
    state: 'canceled',
    code: undefined,
    text: 'the server canceled the command before the install',
  },
} as const satisfies Record<
  string,
  { state: ReportedState; code: number | undefined; text: string }
>;

export type OtaReason = keyof typeof OTA_REASONS;

/** A failed OTA step: the reason, and the protocol codes that go with it into the report. */
export class OtaFailure extends Error {
  override name = 'OtaFailure';
  readonly code: number | undefined;

  constructor(
    readonly reason: OtaReason,
    message: string,
    readonly extra: { readonly http?: number; readonly bytes?: number } = {},
  ) {
    super(message);
    this.code = OTA_REASONS[reason].code;
  }
}
