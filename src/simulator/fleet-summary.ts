import { SIM_STATES, type DeviceOutcome, type SimState } from './device-outcome.js';

export interface DownloadTimes {
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/** The end-of-run report (`tiota simulate`, and `--json`); docs/simulator.md, "Summary". */
export interface FleetSummary {
  readonly profile: string;
  readonly devices: number;
  readonly elapsedSeconds: number;
  /** Devices per state of their last command (device-outcome.ts). */
  readonly states: Record<SimState, number>;
  /** Devices per result code of their last command (TiJOS codes; the agent's report codes). */
  readonly codes: Record<string, number>;
  /** Devices per reason (agent reasons, `crashed_at_start`). */
  readonly reasons: Record<string, number>;
  /** Devices per version they run at the end. */
  readonly versions: Record<string, number>;
  /** Install commands taken, over all devices (retries count again). */
  readonly commands: number;
  /** Times of the last complete download of each device that finished one. */
  readonly downloads: DownloadTimes | null;
  /** Connections refused by the broker, per MQTT CONNACK return code (3: unavailable). */
  readonly mqttRefusals: Record<string, number>;
  /** Devices connected (past their hello) when the summary was taken. */
  readonly online: number;
  readonly memory: {
    readonly rssMiB: number;
    readonly heapUsedMiB: number;
    readonly perDeviceKiB: number;
  };
}

export function summarize(
  profile: string,
  outcomes: readonly DeviceOutcome[],
  elapsedMs: number,
  baselineHeap = 0,
): FleetSummary {
  const states = Object.fromEntries(SIM_STATES.map((s) => [s, 0])) as Record<SimState, number>;
  const codes: Record<string, number> = {};
  const reasons: Record<string, number> = {};
  const versions: Record<string, number> = {};
  const times: number[] = [];
  let commands = 0;
  const refusals: Record<string, number> = {};
  let online = 0;
  for (const o of outcomes) {
    if (o.online) online += 1;
    states[o.state] += 1;
    if (o.code !== null) codes[String(o.code)] = (codes[String(o.code)] ?? 0) + 1;
    if (o.reason !== null) reasons[o.reason] = (reasons[o.reason] ?? 0) + 1;
    versions[o.version] = (versions[o.version] ?? 0) + 1;
    if (o.downloadMs !== null) times.push(o.downloadMs);
    commands += o.commands;
    for (const [code, n] of Object.entries(o.refusals ?? {})) {
      refusals[code] = (refusals[code] ?? 0) + n;
    }
  }
  const memory = process.memoryUsage();
  const mib = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;
  return {
    profile,
    devices: outcomes.length,
    elapsedSeconds: Math.round(elapsedMs / 100) / 10,
    states,
    codes,
    reasons,
    versions,
    commands,
    downloads: downloadTimes(times),
    mqttRefusals: refusals,
    online,
    memory: {
      rssMiB: mib(memory.rss),
      heapUsedMiB: mib(memory.heapUsed),
      perDeviceKiB: outcomes.length
        ? Math.round(((memory.heapUsed - baselineHeap) / 1024 / outcomes.length) * 10) / 10
        : 0,
    },
  };
}

/** Nearest-rank percentiles. */
export function downloadTimes(times: readonly number[]): DownloadTimes | null {
  if (times.length === 0) return null;
  const sorted = [...times].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
  return {
    count: sorted.length,
    p50Ms: rank(50),
    p90Ms: rank(90),
    p99Ms: rank(99),
    maxMs: sorted[sorted.length - 1],
    meanMs: Math.round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
  };
}

/** The summary as people read it. */
export function formatSummary(s: FleetSummary): string {
  const list = (record: Record<string, number>) =>
    Object.entries(record)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k}=${n}`)
      .join('  ') || '-';
  const d = s.downloads;
  return [
    `simulated ${s.devices} ${s.profile} devices for ${s.elapsedSeconds} s`,
    `  states     ${list(s.states)}`,
    `  codes      ${list(s.codes)}`,
    `  reasons    ${list(s.reasons)}`,
    `  versions   ${list(s.versions)}`,
    `  commands   ${s.commands}   online ${s.online}   mqtt refusals ${list(s.mqttRefusals)}`,
    d
      ? `  downloads  ${d.count} complete: p50 ${d.p50Ms} ms  p90 ${d.p90Ms} ms  p99 ${d.p99Ms} ms  max ${d.maxMs} ms`
      : '  downloads  none complete',
    `  memory     rss ${s.memory.rssMiB} MiB  heap ${s.memory.heapUsedMiB} MiB  (${s.memory.perDeviceKiB} KiB heap per device)`,
  ].join('\n');
}
