/**
 * What the simulator knows about one device's last command, in the server's terms so that the
 * summary and the server's rollout counts can be compared:
 * - `succeeded`: came back on the commanded version;
 * - `rolled_back`: came back on the old version after the whole package arrived (a crash at
 *   start, a failed activation, the agent's health window);
 * - `failed`: came back on the old version without the whole package, or the agent reported a
 *   failure;
 * - `rejected` / `canceled`: the agent refused the command / the server canceled it;
 * - `working`: the command is still in progress; `idle`: no command yet.
 */
export type SimState =
  'idle' | 'working' | 'succeeded' | 'failed' | 'rolled_back' | 'rejected' | 'canceled';

export const SIM_STATES: readonly SimState[] = [
  'idle',
  'working',
  'succeeded',
  'failed',
  'rolled_back',
  'rejected',
  'canceled',
];

export interface DeviceOutcome {
  state: SimState;
  /** Install commands taken (a server retry is a new command). */
  commands: number;
  cmd: string | null;
  /** TiJOS OTA code (TIJOS.md), or the agent's report code. */
  code: number | null;
  /** The agent's reason, or `crashed_at_start` for a TiJOS build that crashed. */
  reason: string | null;
  /** Version running now. */
  version: string;
  /** Milliseconds of the last complete download (GET to last byte). */
  downloadMs: number | null;
  /** CONNACKs refused by the broker, per MQTT return code; null until the first. */
  refusals: Record<number, number> | null;
  /** Connected and past its hello. */
  online: boolean;
}

export function newOutcome(version: string): DeviceOutcome {
  return {
    state: 'idle',
    commands: 0,
    cmd: null,
    code: null,
    reason: null,
    version,
    downloadMs: null,
    refusals: null,
    online: false,
  };
}

/** A simulated device, whatever its profile. */
export interface SimDevice {
  readonly id: string;
  readonly outcome: DeviceOutcome;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Counts a refused connection under its MQTT CONNACK return code. */
export function countRefusal(outcome: DeviceOutcome, returnCode: number): void {
  outcome.refusals ??= {};
  outcome.refusals[returnCode] = (outcome.refusals[returnCode] ?? 0) + 1;
}
