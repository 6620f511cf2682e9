import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { manifestText, type InstallCommand } from '../../../src/shared/protocol/index.js';

/** The real package (shared/fixtures/tapk/README.md), beside the repository as CI clones it. */
export const FIXTURE_PATH = path.resolve(
  __dirname,
  '../../../../shared/fixtures/tapk/tijos-http-ota.tapk',
);
export const FIXTURE = readFileSync(FIXTURE_PATH);
export const FIXTURE_SHA256 = createHash('sha256').update(FIXTURE).digest('hex');

/** A server signing key as the server would hold it; the public half goes into credentials. */
export function signingKeys(): { publicKeyPem: string; sign: (text: string) => string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: (text) => sign(null, Buffer.from(text), privateKey).toString('base64'),
  };
}

let counter = 0;

/** An install command for `body`, signed like the server signs packages. */
export function installCommand(
  keys: { sign: (text: string) => string },
  url: string,
  overrides: Partial<InstallCommand> & { body?: Buffer } = {},
): InstallCommand {
  const body = overrides.body ?? FIXTURE;
  const manifest = {
    app: overrides.app ?? 'tijos-http-ota',
    version: overrides.version ?? '2.0.0',
    size: overrides.size ?? body.length,
    sha256: overrides.sha256 ?? createHash('sha256').update(body).digest('hex'),
  };
  const { body: _body, ...rest } = overrides;
  return {
    v: 1,
    op: 'install',
    id: `a${++counter}.1`,
    url,
    sig: keys.sign(manifestText(manifest)),
    exp: Math.floor(Date.now() / 1000) + 3600,
    ...manifest,
    ...rest,
  };
}
