import { CliError } from './api-client.js';

const UNITS: Record<string, number> = {
  m: 60_000,
  h: 3600_000,
  d: 86_400_000,
  y: 365 * 86_400_000,
};

/**
 * Turns `90d`, `12h`, `30m` or `1y` into an absolute Unix-milliseconds expiry; `never` gives
 * null. The server wants absolute times so that a slow network cannot stretch a lifetime.
 */
export function expiryFrom(text: string, flag: string, now = Date.now()): number | null {
  if (text === 'never') return null;
  const match = /^(\d+)([mhdy])$/.exec(text.trim());
  if (!match || Number(match[1]) === 0) {
    throw new CliError(`${flag} must look like 30m, 12h, 90d, 1y or never; got "${text}"`);
  }
  return now + Number(match[1]) * UNITS[match[2]];
}

export function isoOrDash(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '-' : new Date(ms).toISOString();
}

/** Reads a secret from stdin (`--password-stdin`), so it shows in neither `ps` nor history. */
export async function readStdinSecret(what: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const value = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (!value) throw new CliError(`no ${what} on stdin`);
  return value;
}
