import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OTA_REASONS } from '../../src/agent/ota-reasons.js';

const DOC = readFileSync(path.resolve(__dirname, '../../docs/agent.md'), 'utf8');

describe('docs/agent.md, "Reasons"', () => {
  it('lists every reason the agent reports, with its state and TiJOS code', () => {
    for (const [reason, { state, code }] of Object.entries(OTA_REASONS)) {
      const row = DOC.split('\n').find((line) => line.startsWith(`| \`${reason}\` |`));
      expect(row, reason).toBeDefined();
      const cells = row!.split('|').map((c) => c.trim());
      expect(cells[2], reason).toBe(state);
      expect(cells[3], reason).toBe(code === undefined ? '—' : String(code));
    }
  });
});
