import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ManifestKeyView } from '../../server/keys/key-rotation.js';
import type { UrlKeyView } from '../../server/keys/url-keyring.js';
import { CliError, clientFor, withApiOptions } from '../api-client.js';
import { isoOrDash } from '../duration.js';
import { printFields, printResult } from '../output.js';

/** `tiota keys …`: signing keys and their rotation (admins; docs/security.md). */
export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('signing keys: list and rotate (admins)');

  withApiOptions(
    keys.command('list').description('list URL and manifest keys (no secrets)'),
  ).action(async (options) => {
    const result = await clientFor(options).request<{
      url: UrlKeyView[];
      manifest: ManifestKeyView[];
    }>('GET', '/keys');
    if (options.json) return printResult(true, result);
    const state = (k: { signing: boolean; retiredAt: number | null }) =>
      k.signing ? 'signing' : k.retiredAt !== null ? 'retired' : 'verifying';
    process.stdout.write('download URL keys (HMAC):\n');
    printResult(
      false,
      result,
      result.url.map((k) => ({
        id: k.keyId,
        state: state(k),
        created: isoOrDash(k.createdAt),
        retired: isoOrDash(k.retiredAt),
      })),
    );
    process.stdout.write('\nmanifest keys (Ed25519):\n');
    printResult(
      false,
      result,
      result.manifest.map((k) => ({
        id: k.keyId,
        state: state(k),
        packages: k.packages,
        created: isoOrDash(k.createdAt),
      })),
    );
  });

  withApiOptions(
    keys
      .command('rotate-url')
      .description('add a new download-URL HMAC key; old URLs keep working until they expire')
      .option('--retire-others', 'a key leaked: void every other key and every URL already sent'),
  ).action(async (options) => {
    const body = { retireOthers: Boolean(options.retireOthers) };
    printFields(
      options.json,
      await clientFor(options).request<object>('POST', '/keys/url/rotate', body),
    );
  });

  withApiOptions(
    keys
      .command('rotate-manifest')
      .description('make a new manifest signing key (agents must be given its public key)')
      .option(
        '--private-key <file>',
        'use this Ed25519 private key (PEM, PKCS#8) instead of a new one',
      )
      .option('--resign', 're-sign every existing package with the new key'),
  ).action(async (options) => {
    const body: Record<string, unknown> = { resign: Boolean(options.resign) };
    if (options.privateKey) {
      body.privateKeyPem = await readFile(options.privateKey, 'utf8').catch((error: Error) => {
        throw new CliError(`cannot read ${options.privateKey}: ${error.message}`);
      });
    }
    const result = await clientFor(options).request<{
      keyId: string;
      publicKey: string;
      resigned: number;
    }>('POST', '/keys/manifest/rotate', body);
    if (options.json) return printFields(true, result);
    process.stdout.write(
      `new manifest key ${result.keyId}; ${result.resigned} packages re-signed\n`,
    );
    process.stdout.write(`give agents this public key (signingPublicKey):\n${result.publicKey}`);
  });

  withApiOptions(
    keys
      .command('rotate-device <id>')
      .description('give a device a new MQTT secret; the old one stops working (shown once)'),
  ).action(async (id: string, options) => {
    const route = `/devices/${encodeURIComponent(id)}/credentials`;
    printFields(options.json, await clientFor(options).request<object>('POST', route));
  });

  withApiOptions(
    keys.command('resign').description('re-sign packages the current manifest key has not signed'),
  ).action(async (options) => {
    printFields(
      options.json,
      await clientFor(options).request<object>('POST', '/keys/manifest/resign'),
    );
  });
}
