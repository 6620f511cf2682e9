import { describe, expect, it } from 'vitest';
import { formatTable, printable } from '../../src/cli/output.js';

/** What the CLI prints reaches an operator's terminal: device-reported text included. */
describe('CLI output', () => {
  it('shows control characters as escapes, so they cannot drive the terminal', () => {
    const table = formatTable([{ id: 'd-1', app: 'evil\u001b[2J\u001b]0;pwned\u0007\r' }]);
    // Line breaks are the table's own; nothing else below U+0020 or in U+007F–U+009F is left.
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    expect(table.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(table).toContain('evil\\u001b[2J\\u001b]0;pwned\\u0007\\u000d');
    expect(printable('csi\u009bx del\u007f')).toBe('csi\\u009bx del\\u007f');
  });

  it('leaves other text as it is', () => {
    expect(printable('温度计 v1.0-α')).toBe('温度计 v1.0-α');
  });
});
