import { CONTROL_CHARACTER } from '../shared/control-characters.js';

const EVERY_CONTROL_CHARACTER = new RegExp(CONTROL_CHARACTER.source, 'g');

/** Prints rows as an aligned table (people) or the raw value as JSON (scripts, --json). */
export function printResult(
  json: boolean | undefined,
  value: unknown,
  rows?: Record<string, unknown>[],
): void {
  if (json || !rows) {
    process.stdout.write(JSON.stringify(value, null, 2) + '\n');
    return;
  }
  process.stdout.write(formatTable(rows) + '\n');
}

export function formatTable(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(none)';
  const columns = Object.keys(rows[0]);
  const cells = rows.map((row) => columns.map((c) => formatCell(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return printable(value.join(','));
  if (typeof value === 'object') return printable(JSON.stringify(value));
  return printable(String(value));
}

/**
 * Text as a terminal may show it: control characters (C0, DEL, C1) written as `\u001b` and
 * the like. What devices report reaches the operator's terminal through these tables, and an
 * escape sequence in an app name must not clear the screen or retitle the window.
 */
export function printable(text: string): string {
  return text.replace(
    EVERY_CONTROL_CHARACTER,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function printFields(json: boolean | undefined, value: object): void {
  if (json) {
    process.stdout.write(JSON.stringify(value, null, 2) + '\n');
    return;
  }
  const width = Math.max(...Object.keys(value).map((k) => k.length));
  for (const [key, v] of Object.entries(value)) {
    const text = v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v ?? '-');
    process.stdout.write(`${key.padEnd(width)}  ${printable(text)}\n`);
  }
}
