import type { ApiClient } from '../api/api-client';
import type { DeviceView } from '../api/types';

export const PAGE_SIZE = 50;
/** The most devices read at once when filtering by last contact in the browser. */
const SEEN_SCAN_LIMIT = 10_000;

export type SeenFilter = '' | '1h' | '24h' | '7d' | 'older7d' | 'never';

export const SEEN_CHOICES: { value: SeenFilter; label: string }[] = [
  { value: '', label: 'Any time' },
  { value: '1h', label: 'In the last hour' },
  { value: '24h', label: 'In the last 24 hours' },
  { value: '7d', label: 'In the last 7 days' },
  { value: 'older7d', label: 'Not for 7 days or more' },
  { value: 'never', label: 'Never' },
];

export interface DeviceFilters {
  q: string;
  tag: string;
  app: string;
  version: string;
  online: '' | 'true' | 'false';
  seen: SeenFilter;
}

export const FILTER_KEYS = ['q', 'tag', 'app', 'version', 'online', 'seen'] as const;

export function filtersFrom(query: URLSearchParams): DeviceFilters {
  const online = query.get('online');
  const seen = query.get('seen') as SeenFilter | null;
  return {
    q: query.get('q') ?? '',
    tag: query.get('tag') ?? '',
    app: query.get('app') ?? '',
    version: query.get('version') ?? '',
    online: online === 'true' || online === 'false' ? online : '',
    seen: SEEN_CHOICES.some((c) => c.value === seen) ? (seen as SeenFilter) : '',
  };
}

export interface DevicePage {
  total: number;
  devices: DeviceView[];
  /** True when the last-contact filter looked at only the first SEEN_SCAN_LIMIT devices. */
  partial: boolean;
}

/**
 * One page of devices. The API filters by tag, app, version, online and id; last contact is
 * filtered here over up to SEEN_SCAN_LIMIT devices, since the API has no parameter for it yet.
 */
export async function loadDevices(
  api: ApiClient,
  f: DeviceFilters,
  page: number,
): Promise<DevicePage> {
  const query = {
    q: f.q,
    tag: f.tag,
    app: f.app,
    version: f.version,
    online: f.online || undefined,
  };
  if (!f.seen) {
    const result = await api.get<{ total: number; devices: DeviceView[] }>('/devices', {
      ...query,
      limit: PAGE_SIZE,
      offset: page * PAGE_SIZE,
    });
    return { ...result, partial: false };
  }

  const all = await api.get<{ total: number; devices: DeviceView[] }>('/devices', {
    ...query,
    limit: SEEN_SCAN_LIMIT,
  });
  const matching = all.devices.filter(seenMatcher(f.seen, Date.now()));
  return {
    total: matching.length,
    devices: matching.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE),
    partial: all.total > all.devices.length,
  };
}

function seenMatcher(seen: SeenFilter, now: number): (d: DeviceView) => boolean {
  const hour = 3600_000;
  const within = (ms: number) => (d: DeviceView) =>
    d.lastSeenAt !== null && now - d.lastSeenAt <= ms;
  switch (seen) {
    case '1h':
      return within(hour);
    case '24h':
      return within(24 * hour);
    case '7d':
      return within(7 * 24 * hour);
    case 'older7d':
      return (d) => d.lastSeenAt !== null && now - d.lastSeenAt > 7 * 24 * hour;
    case 'never':
      return (d) => d.lastSeenAt === null;
    default:
      return () => true;
  }
}
