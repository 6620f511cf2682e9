import type { ApiClient } from '../api/api-client';
import type { DeviceView, RolloutAction, RolloutView } from '../api/types';
import { ERROR_STATES } from '../ui/action-states';

/** The versions chart counts at most this many devices (one page of the device list). */
export const VERSION_SAMPLE = 10_000;
const FAILURE_ROLLOUTS = 5;
const FAILURES_SHOWN = 8;

export interface VersionShare {
  app: string | null;
  version: string | null;
  count: number;
}

export interface Failure {
  rollout: RolloutView;
  action: RolloutAction;
}

export interface Overview {
  fleet: number;
  online: number;
  versions: VersionShare[];
  /** How many devices the version counts cover (less than `fleet` in very large fleets). */
  counted: number;
  active: RolloutView[];
  failures: Failure[];
}

export async function loadOverview(api: ApiClient): Promise<Overview> {
  const [all, online, rollouts] = await Promise.all([
    api.get<{ total: number; devices: DeviceView[] }>('/devices', { limit: VERSION_SAMPLE }),
    api.get<{ total: number }>('/devices', { online: true, limit: 1 }),
    api.get<{ rollouts: RolloutView[] }>('/rollouts'),
  ]);
  return {
    fleet: all.total,
    online: online.total,
    versions: versionShares(all.devices),
    counted: all.devices.length,
    active: rollouts.rollouts.filter((r) => r.status === 'running' || r.status === 'paused'),
    failures: await recentFailures(api, rollouts.rollouts),
  };
}

function versionShares(devices: DeviceView[]): VersionShare[] {
  const shares = new Map<string, VersionShare>();
  for (const d of devices) {
    const key = `${d.app ?? ''}\u0000${d.version ?? ''}`;
    const share = shares.get(key) ?? { app: d.app, version: d.version, count: 0 };
    share.count++;
    shares.set(key, share);
  }
  return [...shares.values()].sort((a, b) => b.count - a.count);
}

/** Failed, rolled-back and timed-out devices of the newest rollouts that have any. */
async function recentFailures(api: ApiClient, rollouts: RolloutView[]): Promise<Failure[]> {
  const withErrors = rollouts
    .filter((r) => ERROR_STATES.some((s) => (r.counts[s] ?? 0) > 0))
    .slice(0, FAILURE_ROLLOUTS);
  const lists = await Promise.all(
    withErrors.flatMap((rollout) =>
      ERROR_STATES.filter((s) => (rollout.counts[s] ?? 0) > 0).map(async (state) => {
        const { devices } = await api.get<{ devices: RolloutAction[] }>(
          `/rollouts/${rollout.id}/devices`,
          { state },
        );
        return devices.map((action) => ({ rollout, action }));
      }),
    ),
  );
  return lists
    .flat()
    .sort((a, b) => b.action.updatedAt - a.action.updatedAt)
    .slice(0, FAILURES_SHOWN);
}
