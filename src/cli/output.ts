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
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function printFields(json: boolean | undefined, value: object): void {
  if (json) {
    process.stdout.write(JSON.stringify(value, null, 2) + '\n');
    return;
  }
  const width = Math.max(...Object.keys(value).map((k) => k.length));
  for (const [key, v] of Object.entries(value)) {
    const text = v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v ?? '-');
    process.stdout.write(`${key.padEnd(width)}  ${text}\n`);
  }
}
