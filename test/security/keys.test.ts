import { generateKeyPairSync, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManifestSigner } from '../../src/server/keys/manifest-signer.js';
import { UrlKeyring } from '../../src/server/keys/url-keyring.js';
import { manifestText, type InstallCommand } from '../../src/shared/protocol/index.js';
import { FIXTURE_TAPK } from '../support/fixture.js';
import { TestDevice } from '../support/mqtt-device.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { openTestDatabase, TEST_DATABASES, type TestDatabase } from '../support/test-databases.js';

describe.each(TEST_DATABASES)('URL keyring on %s', (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(() => database?.close());

  it('signs with a new key only after every replica can know it, and keeps verifying the old', async () => {
    const ring = await UrlKeyring.load(database.db, 200);
    const first = ring.currentKeyId;
    const other = await UrlKeyring.load(database.db, 200);
    const second = await ring.rotate({ retireOthers: false, urlTtlMs: 60_000 });
    expect(second).not.toBe(first);
    expect(ring.currentKeyId).toBe(first);
    expect(ring.secret(second)).toBeDefined();
    await new Promise((r) => setTimeout(r, 250));
    expect(ring.currentKeyId).toBe(second);
    expect(ring.secret(first)).toBeDefined();
    // Another replica learns the key at its next refresh.
    expect(other.secret(second)).toBeUndefined();
    await other.refresh();
    expect(other.secret(second)).toEqual(ring.secret(second));
  });

  it('keeps cycling ids past 256 rotations without replacing the signing key', async () => {
    const ring = await UrlKeyring.load(database.db, 0);
    // Every one-byte id in use, the newest being 255.
    await database.db.deleteFrom('signing_keys').where('purpose', '=', 'url-hmac').execute();
    await database.db
      .insertInto('signing_keys')
      .values(
        Array.from({ length: 256 }, (_, id) => ({
          purpose: 'url-hmac',
          key_id: String(id),
          secret: Buffer.alloc(32, id).toString('base64'),
          public_key: null,
          created_at: Date.now() - 1000 + id,
          retired_at: null,
        })),
      )
      .execute();
    await ring.refresh();
    expect(ring.currentKeyId).toBe(255);
    for (const expected of [0, 1, 2]) {
      const id = await ring.rotate({ retireOthers: false, urlTtlMs: 3_600_000 });
      expect(id).toBe(expected);
      expect(ring.currentKeyId).toBe(id);
      expect(ring.secret(id)?.equals(Buffer.alloc(32, id))).toBe(false);
      expect(ring.secret(255)).toBeDefined();
    }
  });

  it('retires every other key at once when a leak is suspected', async () => {
    const ring = await UrlKeyring.load(database.db, 0);
    const before = ring.currentKeyId;
    const fresh = await ring.rotate({ retireOthers: true, urlTtlMs: 3_600_000 });
    expect(ring.secret(before)).toBeUndefined();
    expect(ring.currentKeyId).toBe(fresh);
    const listed = await ring.list();
    expect(listed.filter((k) => k.retiredAt === null).map((k) => k.keyId)).toEqual([fresh]);
  });

  it('retires keys whose URLs must all have expired', async () => {
    const ring = await UrlKeyring.load(database.db, 0);
    const old = ring.currentKeyId;
    await ring.rotate({ retireOthers: false, urlTtlMs: 0 });
    // Superseded just now: a URL it signed a moment ago may still be out there.
    expect(ring.secret(old)).toBeDefined();
    await new Promise((r) => setTimeout(r, 20));
    await database.db
      .updateTable('signing_keys')
      .set({ created_at: Date.now() - 3_600_000 })
      .where('purpose', '=', 'url-hmac')
      .execute();
    await ring.rotate({ retireOthers: false, urlTtlMs: 0 });
    expect(ring.secret(old)).toBeUndefined();
  });
});

describe.each(TEST_DATABASES)('manifest signer on %s', (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(() => database?.close());

  it('signs with the rotated key on every replica after a refresh', async () => {
    const a = await ManifestSigner.load(database.db);
    const b = await ManifestSigner.load(database.db);
    expect(b.keyId).toBe(a.keyId);
    const manifest = { app: 'x', version: '1', size: 3, sha256: 'a'.repeat(64) };
    const made = await a.rotate();
    expect(a.keyId).toBe(made.keyId);
    await b.refresh();
    expect(b.keyId).toBe(made.keyId);
    const sig = b.sign(manifest);
    expect(
      verify(
        null,
        Buffer.from(manifestText(manifest)),
        made.publicKeyPem,
        Buffer.from(sig, 'base64'),
      ),
    ).toBe(true);
  });

  it("imports an operator's own Ed25519 key, and only that kind", async () => {
    const signer = await ManifestSigner.load(database.db);
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const made = await signer.rotate(pem);
    expect(made.publicKeyPem).toBe(publicKey.export({ type: 'spki', format: 'pem' }).toString());
    await expect(signer.rotate(pem)).rejects.toThrow(/unique|duplicate/i);
    expect(signer.keyId).toBe(made.keyId);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    await expect(
      signer.rotate(rsa.export({ type: 'pkcs8', format: 'pem' }).toString()),
    ).rejects.toThrow(/Ed25519/);
    await expect(signer.rotate('not a key')).rejects.toThrow(/PEM/);
  });
});

describe('key rotation through the API', () => {
  let server: TestServer;
  let fixture: Buffer;

  const upload = async (version: string) => {
    const res = await fetch(
      `${server.httpUrl}/api/v1/packages?version=${version}&fileName=a.tapk`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${server.token}`,
          'content-type': 'application/octet-stream',
        },
        body: fixture,
      },
    );
    return (await res.json()) as {
      id: number;
      app: string;
      version: string;
      size: number;
      sha256: string;
      signature: string;
    };
  };
  const signedBy = (pkg: Awaited<ReturnType<typeof upload>>, publicKey: string) =>
    verify(null, Buffer.from(manifestText(pkg)), publicKey, Buffer.from(pkg.signature, 'base64'));

  beforeAll(async () => {
    server = await startTestServer();
    fixture = await readFile(FIXTURE_TAPK);
  });
  afterAll(() => server?.stop());

  it('keeps URLs already sent working across a URL key rotation, and voids them on retireOthers', async () => {
    const pkg = await upload('7.0.0');
    const creds = (await server.api('POST', '/devices', { deviceId: 'keys-1' })).body;
    const device = await TestDevice.connect(creds, { app: 'tijos-http-ota', version: '1.0.0' });
    await server.api('POST', '/rollouts', { packageId: pkg.id, target: { devices: ['keys-1'] } });
    const command = (await device.nthCommand(1)) as InstallCommand;
    await device.close();

    const rotated = await server.api('POST', '/keys/url/rotate', {});
    expect(rotated.status).toBe(200);
    expect((await fetch(command.url, { method: 'HEAD' })).status).toBe(200);
    const listed = (await server.api('GET', '/keys')).body;
    expect(listed.url.map((k: any) => k.keyId)).toContain(rotated.body.keyId);
    expect(JSON.stringify(listed)).not.toMatch(/secret|PRIVATE/);

    await server.api('POST', '/keys/url/rotate', { retireOthers: true });
    expect((await fetch(command.url, { method: 'HEAD' })).status).toBe(403);
  });

  it('signs new packages with a rotated manifest key and hands new devices its public key', async () => {
    const before = await upload('7.1.0');
    const oldKey = (await server.api('POST', '/devices', { deviceId: 'keys-old' })).body
      .signingPublicKey;
    expect(signedBy(before, oldKey)).toBe(true);

    const rotated = (await server.api('POST', '/keys/manifest/rotate', {})).body;
    expect(rotated.resigned).toBe(0);
    const after = await upload('7.2.0');
    expect(signedBy(after, rotated.publicKey)).toBe(true);
    expect(signedBy(after, oldKey)).toBe(false);
    const newDevice = (await server.api('POST', '/devices', { deviceId: 'keys-new' })).body;
    expect(newDevice.signingPublicKey).toBe(rotated.publicKey);

    // Old packages keep the old signature until they are re-signed.
    const stale = (await server.api('GET', `/packages/${before.id}`)).body;
    expect(signedBy(stale, rotated.publicKey)).toBe(false);
    const resign = (await server.api('POST', '/keys/manifest/resign')).body;
    expect(resign.resigned).toBeGreaterThanOrEqual(1);
    const fresh = (await server.api('GET', `/packages/${before.id}`)).body;
    expect(signedBy(fresh, rotated.publicKey)).toBe(true);
    expect(fresh.signingKeyId).toBe(rotated.keyId);
    // Nothing left to do the second time.
    expect((await server.api('POST', '/keys/manifest/resign')).body.resigned).toBe(0);
  });

  it('imports a supplied manifest key and refuses one that is no Ed25519 key', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const made = await server.api('POST', '/keys/manifest/rotate', {
      privateKeyPem: pem,
      resign: true,
    });
    expect(made.status).toBe(200);
    expect(made.body.resigned).toBeGreaterThanOrEqual(3);
    const again = await server.api('POST', '/keys/manifest/rotate', { privateKeyPem: pem });
    expect([again.status, again.body.error.code]).toEqual([409, 'key_exists']);
    const bad = await server.api('POST', '/keys/manifest/rotate', { privateKeyPem: 'hello' });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'validation_failed']);
    const keys = (await server.api('GET', '/keys')).body.manifest;
    expect(keys.filter((k: any) => k.signing)).toHaveLength(1);
    expect(keys.find((k: any) => k.signing).keyId).toBe(made.body.keyId);
  });
});
