import { formatBytes, formatDate, formatDuration, humanize } from './format';

/**
 * Shows a value the console has no special view for (new plan or rollout fields), guessing the
 * unit from the name the API gave it: `…Seconds` and `…Duration…` are durations, `…Ms` are
 * milliseconds, `…At` are timestamps, `…Bytes` and `size` are sizes.
 */
export function formatField(key: string, value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return formatNumber(key, value);
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) {
    return value.length ? value.join(', ') : '—';
  }
  return JSON.stringify(value);
}

function formatNumber(key: string, value: number): string {
  if (/bytesPerSecond/i.test(key)) return `${formatBytes(value)}/s`;
  if (/Ms$/.test(key)) return formatDuration(value / 1000);
  if (/seconds$|duration|eta/i.test(key)) return formatDuration(value);
  if (/At$/.test(key) && value > 1e11) return formatDate(value);
  if (/bytes$|^size$/i.test(key)) return formatBytes(value);
  if (/per(cent|centage)$|ratio$|rate$/i.test(key)) return String(value);
  return value.toLocaleString();
}

/**
 * The label for a value shown with formatField: the name without the unit it names, since the
 * value carries it ("Deadline: 1 min", not "Deadline seconds: 1 min").
 */
export function fieldLabel(key: string): string {
  const bare = key.replace(/(BytesPerSecond|Seconds|Ms|Bytes)$/, '');
  return humanize(bare || key);
}
