/** Display helpers: sizes, times and field names in the operator's locale. */

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString();
}

export function formatDate(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** "3 min ago", "in 2 h", or a date beyond a week. */
export function formatAgo(ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined) return 'never';
  const seconds = Math.round((now - ms) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 10) return 'just now';
  if (abs > 7 * 86400) return formatDate(ms);
  const text = formatDuration(abs);
  return seconds >= 0 ? `${text} ago` : `in ${text}`;
}

/** Seconds as "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const rest = s % 60;
    return rest && s < 600 ? `${Math.floor(s / 60)} min ${rest} s` : `${Math.round(s / 60)} min`;
  }
  if (s < 86400) {
    const minutes = Math.round((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h${minutes ? ` ${minutes} min` : ''}`;
  }
  const hours = Math.round((s % 86400) / 3600);
  return `${Math.floor(s / 86400)} d${hours ? ` ${hours} h` : ''}`;
}

export function formatPercent(part: number, whole: number): string {
  if (whole === 0) return '0 %';
  const value = (part / whole) * 100;
  return `${value >= 99.95 || value < 10 ? Math.floor(value * 10) / 10 : Math.round(value)} %`;
}

/** `confirmTimeoutSeconds` → "Confirm timeout seconds"; `rolled_back` → "Rolled back". */
export function humanize(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_.-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
