import type { Pacing } from '../../server/domain/pacing-plan.js';
import type { PlannedBatch } from '../../server/domain/rollout-plan.js';
import type { RolloutView } from '../../server/domain/rollout-service.js';
import { formatTable, printFields } from '../output.js';

/** What `POST /rollouts` with `dryRun: true` answers. */
export interface DryRunPlan {
  readonly package: { id: number; app: string; version: string; size: number };
  readonly devices: number;
  readonly batches: (PlannedBatch & { devices: string[] })[];
  readonly pacing: Pacing;
  readonly expectedSeconds: number;
}

const LIMIT_NAMES: Record<Pacing['limitedBy'], string> = {
  bandwidth: 'the server bandwidth (--bandwidth) and the device deadline',
  setting: 'the rollout setting maxConcurrentDownloads',
  server: 'the server download cap (--max-downloads)',
};

/** The plan of a dry run, for people: batches, pacing and expected duration. */
export function formatPlan(plan: DryRunPlan): string {
  const { pacing } = plan;
  const lines = [
    `plan: ${plan.devices} devices to ${plan.package.app} ${plan.package.version} ` +
      `(${plan.package.size} bytes) in ${plan.batches.length} batches`,
    `pacing: at most ${pacing.maxConcurrentDownloads} devices download at once, limited by ` +
      `${LIMIT_NAMES[pacing.limitedBy]}; ${pacing.profile} devices allow ${pacing.deadlineSeconds} s, ` +
      `so each download needs ${formatRate(pacing.bytesPerSecondPerDownload)}`,
    '',
    formatTable(
      plan.batches.map((b) => ({
        batch: b.batch + 1,
        devices: b.size,
        kind: b.canary ? 'canary' : '',
        expected: `~${formatDuration(b.expectedSeconds)}`,
        first: b.devices.slice(0, 3).join(',') + (b.devices.length > 3 ? ',…' : ''),
      })),
    ),
    '',
    `expected duration: ~${formatDuration(plan.expectedSeconds)} if every batch passes its stop rules`,
  ];
  for (const warning of pacing.warnings) lines.push(`warning: ${warning}`);
  return lines.join('\n') + '\n';
}

export function printRollout(json: boolean | undefined, r: RolloutView): void {
  if (json) return printFields(true, r as unknown as Record<string, unknown>);
  printFields(false, {
    id: r.id,
    name: r.name,
    status: r.status + (r.pauseReason ? ` (${r.pauseReason})` : ''),
    package: `${r.package.app} ${r.package.version} (#${r.package.id})`,
    batch:
      `${r.currentBatch + 1} of ${r.batchCount}` +
      (r.soakUntil ? `, soaking until ${new Date(r.soakUntil).toISOString()}` : ''),
    counts: formatCounts(r.counts) || '-',
    ...(r.plan && { expected: `~${formatDuration(r.plan.expectedSeconds)}` }),
  });
  if (r.batches.length === 0) return;
  const rows = r.batches.map((b) => ({
    batch: `${b.batch + 1}${b.canary ? ' (canary)' : ''}`,
    devices: b.size,
    started: b.started ? 'yes' : 'no',
    counts: formatCounts(b.counts) || '-',
  }));
  process.stdout.write('\n' + formatTable(rows) + '\n');
}

/** `succeeded=4 failed=1`, states with no action left out. */
export function formatCounts(counts: Partial<Record<string, number>>): string {
  return Object.entries(counts)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([s, n]) => `${s}=${n}`)
    .join(' ');
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function formatRate(bytesPerSecond: number): string {
  if (bytesPerSecond >= 1e6) return `${(bytesPerSecond / 1e6).toFixed(1)} MB/s`;
  if (bytesPerSecond >= 1e3) return `${(bytesPerSecond / 1e3).toFixed(1)} kB/s`;
  return `${Math.ceil(bytesPerSecond)} B/s`;
}
