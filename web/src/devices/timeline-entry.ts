import type { DeviceEvent } from '../api/types';

export type TimelineCategory =
  'command' | 'download' | 'report' | 'error' | 'success' | 'connection' | 'other';

export const CATEGORY_LABELS: Record<TimelineCategory, string> = {
  command: 'Commands',
  download: 'Downloads',
  report: 'Reports',
  error: 'Errors',
  success: 'Upgrades',
  connection: 'Connections',
  other: 'Other',
};

/** TiJOS OTA app result codes (docs/protocol.md). */
const OTA_CODES: Record<number, string> = {
  0: 'ok',
  [-1]: 'HTTP error',
  [-2]: 'timeout',
  [-3]: 'could not create the app',
  [-4]: 'could not write the app',
  [-5]: 'could not activate the app',
};

export interface TimelineEntry {
  event: DeviceEvent;
  category: TimelineCategory;
  title: string;
  /** Error codes and the like, shown as chips: "reason ota_-1", "OTA code -1 (HTTP error)". */
  codes: string[];
}

const ERROR_KINDS = [
  'failed',
  'rolled_back',
  'timed_out',
  'status.failed',
  'status.rejected',
  'status.rolled_back',
];

/** Reads a device event (see the server's device-report-handler) as a line of the timeline. */
export function toTimelineEntry(event: DeviceEvent): TimelineEntry {
  const d = event.detail;
  const codes: string[] = [];
  if (typeof d.reason === 'string') codes.push(`reason ${d.reason}`);
  if (typeof d.code === 'number')
    codes.push(`OTA code ${d.code}${OTA_CODES[d.code] ? ` (${OTA_CODES[d.code]})` : ''}`);
  if (typeof d.http === 'number') codes.push(`HTTP ${d.http}`);

  return { event, codes, ...describe(event) };
}

function describe(event: DeviceEvent): { category: TimelineCategory; title: string } {
  const d = event.detail;
  const version = typeof d.version === 'string' ? d.version : '';
  if (ERROR_KINDS.includes(event.kind)) {
    return { category: 'error', title: errorTitle(event.kind, d) };
  }
  switch (event.kind) {
    case 'command':
      return {
        category: 'command',
        title: `Upgrade command sent${version ? ` (to ${version})` : ''}`,
      };
    case 'download.complete':
      return { category: 'download', title: 'Download complete (the server sent every byte)' };
    case 'status.downloading':
      return { category: 'download', title: 'Reported: downloading' };
    case 'status.downloaded':
      return { category: 'download', title: 'Reported: downloaded' };
    case 'succeeded':
      return { category: 'success', title: `Upgraded${version ? ` — now runs ${version}` : ''}` };
    case 'hello':
      return { category: 'connection', title: `Connected, running ${d.app ?? '?'} ${version}` };
    case 'online':
      return { category: 'connection', title: 'Came online' };
    case 'offline':
      return { category: 'connection', title: 'Went offline' };
    case 'canceled':
      return { category: 'other', title: 'Command canceled' };
  }
  if (event.kind.startsWith('status.')) {
    return { category: 'report', title: `Reported: ${event.kind.slice(7).replace(/_/g, ' ')}` };
  }
  return { category: 'other', title: event.kind };
}

function errorTitle(kind: string, d: Record<string, unknown>): string {
  switch (kind) {
    case 'timed_out':
      return `Timed out${typeof d.state === 'string' ? ` while ${d.state.replace(/_/g, ' ')}` : ''}`;
    case 'rolled_back':
      return `Rolled back${typeof d.version === 'string' ? ` — still runs ${d.version}` : ''}`;
    case 'failed':
      return 'Upgrade failed';
    default:
      return `Reported: ${kind.slice(7).replace(/_/g, ' ')}`;
  }
}
