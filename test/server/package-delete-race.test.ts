import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_TAPK } from '../support/fixture.js';
import { TEST_DATABASES } from '../support/test-databases.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/**
 * Deleting a package while a rollout of it is being created: one of the two must lose. A
 * rollout whose package is gone never ends, its devices' reports cannot be judged.
 */
describe.each(TEST_DATABASES)('package delete racing rollout create on %s', (database) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ database });
    await server.api('POST', '/devices', { deviceId: 'race-1' });
  });
  afterAll(() => server?.stop());

  it('never both creates the rollout and deletes its package', async () => {
    const fixture = await readFile(FIXTURE_TAPK);
    for (let i = 0; i < 8; i++) {
      const uploaded = await fetch(
        `${server.httpUrl}/api/v1/packages?version=1.0.${i + 10}&fileName=ota.tapk`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${server.token}`,
            'content-type': 'application/octet-stream',
          },
          body: fixture,
        },
      );
      const { id } = (await uploaded.json()) as { id: number };
      const [created, deleted] = await Promise.all([
        server.api('POST', '/rollouts', {
          packageId: id,
          target: { devices: ['race-1'] },
          settings: { canary: 0 },
        }),
        // From at once to a few ms later: inside the creation's work.
        new Promise((r) => setTimeout(r, i)).then(() => server.api('DELETE', `/packages/${id}`)),
      ]);
      expect([created.status, deleted.status]).not.toEqual([201, 204]);
      if (created.status === 201) {
        expect(deleted.status).toBe(409);
        await server.api('POST', `/rollouts/${created.body.id}/cancel`);
      } else {
        expect(deleted.status).toBe(204);
        expect(created.body.error.code).toBe('not_found');
      }
    }
  });
});
