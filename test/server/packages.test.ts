import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_TAPK } from '../support/fixture.js';
import { eventually } from '../support/mqtt-device.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('package uploads', () => {
  let server: TestServer;
  let fixture: Buffer;

  beforeAll(async () => {
    server = await startTestServer();
    fixture = await readFile(FIXTURE_TAPK);
  });
  afterAll(() => server?.stop());

  const upload = (body: Buffer | FormData, query: string) =>
    fetch(`${server.httpUrl}/api/v1/packages?${query}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${server.token}`,
        ...(!(body instanceof FormData) && { 'content-type': 'application/octet-stream' }),
      },
      body,
    });

  async function storedFiles(): Promise<string[]> {
    const root = path.join(server.dataDir, 'packages');
    const files: string[] = [];
    for (const dir of [
      'tmp',
      ...(await readdir(path.join(root, 'sha256'))).map((d) => `sha256/${d}`),
    ]) {
      files.push(...(await readdir(path.join(root, dir))));
    }
    return files;
  }

  it('refuses a .tapk with one flipped byte and stores nothing', async () => {
    const corrupt = Buffer.from(fixture);
    corrupt[5000] ^= 0x80;
    const res = await upload(corrupt, 'version=9.9.9&fileName=bad.tapk');
    expect(res.status).toBe(422);
    const body = await res.json();
    expect(body.error.code).toBe('tapk_invalid');
    expect(body.error.message).toMatch(/CRC-16/);
    expect((await server.api('GET', '/packages')).body.packages).toHaveLength(0);
    expect(await storedFiles()).toEqual([]);
  });

  it('stores the fixture with its trailer fields, size and hash', async () => {
    const res = await upload(fixture, 'version=1.0.0&fileName=tijos-http-ota.tapk');
    expect(res.status).toBe(201);
    const pkg = await res.json();
    expect(pkg).toMatchObject({
      app: 'tijos-http-ota',
      version: '1.0.0',
      kind: 'tapk',
      size: 20384,
      sha256: createHash('sha256').update(fixture).digest('hex'),
      tapk: {
        name: 'tijos-http-ota',
        description: 'OTA via CoAP',
        buildTimeIso: '2021-04-10T02:13:56.000Z',
        crc: '0x58b9',
      },
    });
  });

  it('refuses a re-upload of stored bytes with a wrong declared SHA-256 and changes nothing', async () => {
    const before = (await server.api('GET', '/packages')).body.packages;
    const wrong = 'a'.repeat(64);
    const res = await upload(fixture, `version=1.0.1&fileName=x.tapk&sha256=${wrong}`);
    expect(res.status).toBe(422);
    expect((await res.json()).error.code).toBe('digest_mismatch');
    expect((await server.api('GET', '/packages')).body.packages).toEqual(before);
    expect(await storedFiles()).toHaveLength(1);
  });

  it('refuses the same app and version twice', async () => {
    const res = await upload(fixture, 'version=1.0.0&fileName=again.tapk');
    expect(res.status).toBe(409);
    expect((await res.json()).error.code).toBe('package_exists');
  });

  it('accepts multipart uploads and keeps a hostile file name as text only', async () => {
    const form = new FormData();
    form.set('version', '1.0.2');
    form.set('file', new Blob([fixture]), '../../etc/passwd\\..\\%2e%2e.tapk');
    const res = await upload(form, '');
    expect(res.status).toBe(201);
    const pkg = await res.json();
    expect(await storedFiles()).toEqual([pkg.sha256]);

    const hostile = '../../../tmp/x\\..\\%2e%2e/名.tapk';
    const raw = await upload(fixture, `version=1.0.3&fileName=${encodeURIComponent(hostile)}`);
    expect(raw.status).toBe(201);
    expect((await raw.json()).fileName).toBe(hostile);
    expect(await storedFiles()).toEqual([pkg.sha256]);

    // A NUL character is refused (PostgreSQL cannot store it), and nothing is kept.
    const nul = await upload(
      fixture,
      `version=1.0.4&fileName=${encodeURIComponent('x\u0000.tapk')}`,
    );
    expect(nul.status).toBe(400);
    expect((await nul.json()).error.message).toBe(
      'invalid input: query.fileName must not contain a NUL character (U+0000)',
    );
    const nulForm = new FormData();
    nulForm.set('version', '1.0.5');
    nulForm.set('file', new Blob([fixture]), 'x\u0000.tapk');
    const nulPart = await upload(nulForm, '');
    expect(nulPart.status).toBe(400);
    expect((await nulPart.json()).error.message).toBe(
      'invalid input: the file name must not contain a NUL character (U+0000)',
    );
    expect(await storedFiles()).toEqual([pkg.sha256]);
  });

  it('needs an app name for files that are not .tapk', async () => {
    const firmware = Buffer.from('not a tapk, some firmware image');
    const missing = await upload(firmware, 'version=1.0.0&fileName=fw.bin');
    expect(missing.status).toBe(400);
    const ok = await upload(firmware, 'version=1.0.0&fileName=fw.bin&app=linux-gateway');
    expect(ok.status).toBe(201);
    expect((await ok.json()).kind).toBe('file');
  });

  it('refuses a package over the size limit with 413 and leaves no file', async () => {
    const small = await startTestServer({ config: { maxUploadBytes: '1000' } });
    try {
      const res = await fetch(`${small.httpUrl}/api/v1/packages?version=1.0.0&fileName=big.tapk`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${small.token}`,
          'content-type': 'application/octet-stream',
        },
        body: fixture,
      });
      expect(res.status).toBe(413);
      expect((await res.json()).error.code).toBe('payload_too_large');
      expect(await readdir(path.join(small.dataDir, 'packages', 'tmp'))).toEqual([]);
    } finally {
      await small.stop();
    }
  });
});

describe('a slow upload', () => {
  it('completes when the body trickles in over several seconds', async () => {
    const server = await startTestServer();
    try {
      const fixture = await readFile(FIXTURE_TAPK);
      const chunks = 40;
      const size = Math.ceil(fixture.length / chunks);
      let sent = 0;
      const body = new ReadableStream({
        async pull(controller) {
          if (sent >= fixture.length) return controller.close();
          await new Promise((r) => setTimeout(r, 100));
          controller.enqueue(fixture.subarray(sent, sent + size));
          sent += size;
        },
      });
      const res = await fetch(
        `${server.httpUrl}/api/v1/packages?version=1.0.0&fileName=slow.tapk`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${server.token}`,
            'content-type': 'application/octet-stream',
          },
          body,
          duplex: 'half',
        } as RequestInit,
      );
      expect(res.status).toBe(201);
      expect((await res.json()).sha256).toBe(createHash('sha256').update(fixture).digest('hex'));
    } finally {
      await server.stop();
    }
  });
});

describe('an interrupted upload', () => {
  it('leaves no package and no file behind', async () => {
    const server = await startTestServer();
    try {
      const fixture = await readFile(FIXTURE_TAPK);
      const url = new URL(`${server.httpUrl}/api/v1/packages?version=1.0.0&fileName=cut.tapk`);
      // Announce the whole size, send half, then drop the connection.
      await new Promise<void>((resolve) => {
        const req = http.request(url, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${server.token}`,
            'content-type': 'application/octet-stream',
            'content-length': String(fixture.length),
          },
        });
        req.on('error', () => resolve());
        req.write(fixture.subarray(0, fixture.length / 2), () => {
          setTimeout(() => {
            req.destroy();
            resolve();
          }, 200);
        });
      });
      const root = path.join(server.dataDir, 'packages');
      await eventually(
        async () => (await readdir(path.join(root, 'tmp'))).length === 0,
        5000,
        'temp file removed',
      );
      expect((await server.api('GET', '/packages')).body.packages).toEqual([]);
      expect(await readdir(path.join(root, 'sha256'))).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
