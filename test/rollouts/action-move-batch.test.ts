import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  applyMoves,
  type MoveDecision,
  type MoveRequest,
} from '../../src/server/domain/action-move-batch.js';
import { canMove, type ActionState } from '../../src/server/domain/action-state.js';
import { DeviceActivityWriter } from '../../src/server/domain/device-activity-writer.js';
import type { ActionRow } from '../../src/server/domain/action-store.js';
import {
  openTestDatabase,
  TEST_DATABASES,
  type TestDatabase,
  type TestDatabaseKind,
} from '../support/test-databases.js';
import { EngineBench } from './helpers/engine-bench.js';

/**
 * A group commit decides every report on the actions as it finds them (issue 9): one read for
 * the batch, decisions in order, one write per action, and a request decided again when
 * another writer moved its action in between.
 */
describe.each(TEST_DATABASES)('action moves in a batch on %s', (kind) => {
  const fixture = batchFixture(kind);
  const { actionIds, stateOf, apply } = fixture;

  it('decides each request on the row as the requests before it left it', async () => {
    const [a] = actionIds;
    const applied = await apply([
      progress(a, 'accepted'),
      progress(a, 'downloading'),
      progress(a, 'accepted'), // late and out of order: finds downloading, changes nothing
    ]);
    expect(applied.results).toEqual(['sent', 'accepted', 'downloading']);
    expect(await stateOf(a)).toBe('downloading');
    expect(applied.events.map((e) => e.kind)).toEqual([
      'to.accepted',
      'to.downloading',
      'to.accepted',
    ]);
    const row = await fixture.database.db
      .selectFrom('actions')
      .select(['updated_at'])
      .where('id', '=', a)
      .executeTakeFirstOrThrow();
    expect(Number(row.updated_at)).toBe(5000);
  });

  it('moves actions that end alike together and leaves the others as they are', async () => {
    const [a, b, c] = actionIds;
    await fixture.database.db
      .updateTable('actions')
      .set({ state: 'failed' })
      .where('id', '=', c)
      .execute();
    const applied = await apply([
      progress(a, 'accepted'),
      progress(b, 'accepted'),
      progress(c, 'accepted'),
    ]);
    expect(applied.results).toEqual(['sent', 'sent', 'failed']);
    expect([await stateOf(a), await stateOf(b), await stateOf(c)]).toEqual([
      'accepted',
      'accepted',
      'failed',
    ]);
  });

  it("gives a device's request its unfinished actions, newest first", async () => {
    const [a] = actionIds;
    const deviceRowId = await fixture.deviceOf(a);
    // A second, newer action for the same device, and a third one already finished.
    const newer = await fixture.copyAction(a, 'queued');
    await fixture.copyAction(a, 'succeeded');

    const seen: Array<[number, string]> = [];
    await apply([
      progress(a, 'accepted'),
      {
        target: { activeOfDevice: deviceRowId },
        decide: async (rows) => {
          seen.push(...rows.map((r): [number, string] => [Number(r.id), r.state]));
          return { result: null };
        },
      },
    ]);
    expect(seen).toEqual([
      [newer, 'queued'],
      [a, 'accepted'],
    ]);
  });

  it("fails only the request whose decision threw; the batch's others commit together", async () => {
    const [a, b] = actionIds;
    const writer = new DeviceActivityWriter(fixture.database.db, () => 5000);
    const transactions = new Set<unknown>();
    const seeing = <T>(request: MoveRequest<T>): MoveRequest<T> => ({
      target: request.target,
      decide: (rows, now, trx) => {
        transactions.add(trx);
        return request.decide(rows, now, trx);
      },
    });
    const results = await Promise.allSettled([
      writer.move(seeing(progress(a, 'accepted'))),
      writer.move(
        seeing({
          target: { actionId: b },
          decide: async () => {
            throw new Error('no package for this action');
          },
        }),
      ),
      writer.move(seeing(progress(b, 'accepted'))),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('no package for this action');
    expect([await stateOf(a), await stateOf(b)]).toEqual(['accepted', 'accepted']);
    // One transaction: the batch did not fall back to one commit per request.
    expect(transactions.size).toBe(1);
  });
});

/** Only PostgreSQL has other writers (replicas) that can move an action during a commit. */
describe.each(TEST_DATABASES.filter((k) => k === 'postgres'))(
  'action moves in a batch racing another replica on %s',
  (kind) => {
    const fixture = batchFixture(kind);
    const { actionIds, stateOf, apply } = fixture;

    it('decides a request again when another writer moved its action in between', async () => {
      const [a] = actionIds;
      let calls = 0;
      const request: MoveRequest<string | null> = {
        target: { actionId: a },
        decide: async (rows, now) => {
          calls++;
          // Another replica's move commits after this batch read the row.
          if (calls === 1) await outsideMove(a, 'accepted');
          return progress(a, 'downloading').decide(rows, now, fixture.database.db);
        },
      };
      const applied = await apply([request]);
      expect(calls).toBe(2);
      expect(applied.results).toEqual(['accepted']);
      expect(applied.events).toHaveLength(1);
      expect(await stateOf(a)).toBe('downloading');
    });

    it('gives a request up after three rounds of its action changing under it', async () => {
      const [a] = actionIds;
      const outside: ActionState[] = ['accepted', 'downloading', 'downloaded'];
      const seen: number[] = [];
      const request: MoveRequest<string | null> = {
        target: { actionId: a },
        decide: async (rows, now) => {
          seen.push(rows.length);
          const next = outside.shift();
          if (next) await outsideMove(a, next);
          return progress(a, 'installing').decide(rows, now, fixture.database.db);
        },
      };
      const applied = await apply([request]);
      // Three rounds on the row, then decided on no rows: nothing is written for it.
      expect(seen).toEqual([1, 1, 1, 0]);
      expect(applied.results).toEqual([null]);
      expect(applied.events).toEqual([]);
      expect(await stateOf(a)).toBe('downloaded');
    });

    it("keeps a device's written move when another of its actions changed under the batch", async () => {
      const [a] = actionIds;
      const newer = await fixture.copyAction(a, 'queued');
      let first = 0;
      let second = 0;
      const missedMove: MoveRequest<string | null> = {
        target: { actionId: a },
        decide: async (rows, now) => {
          if (first++ === 0) await outsideMove(a, 'accepted');
          return progress(a, 'downloading').decide(rows, now, fixture.database.db);
        },
      };
      // Moves the device's newer action; written in the first round, so it is not decided again.
      const standingMove: MoveRequest<string> = {
        target: { activeOfDevice: await fixture.deviceOf(a) },
        decide: async (rows) => {
          second++;
          const action = rows.find((r) => Number(r.id) === newer)!;
          return { move: { action, change: { state: 'sent' } }, result: 'moved' };
        },
      };
      const applied = await apply([missedMove, standingMove]);
      expect([first, second]).toEqual([2, 1]);
      expect(applied.results).toEqual(['accepted', 'moved']);
      expect(await stateOf(a)).toBe('downloading');
      expect(await stateOf(newer)).toBe('sent');
    });

    /** A committed move on another connection of the pool, as another replica would make. */
    async function outsideMove(id: number, state: ActionState): Promise<void> {
      await fixture.database.db
        .updateTable('actions')
        .set({ state })
        .where('id', '=', id)
        .execute();
    }
  },
);

/** Three devices with a sent action each, and helpers to read and batch-move them. */
function batchFixture(kind: TestDatabaseKind) {
  const fixture = {
    database: null as unknown as TestDatabase,
    actionIds: [] as number[],
    stateOf: async (id: number) =>
      (
        await fixture.database.db
          .selectFrom('actions')
          .select('state')
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).state,
    apply: (requests: MoveRequest[], now = 5000) =>
      fixture.database.db.transaction().execute((trx) => applyMoves(trx, requests, now)),
    deviceOf: async (id: number) =>
      Number(
        (
          await fixture.database.db
            .selectFrom('actions')
            .select('device_row_id')
            .where('id', '=', id)
            .executeTakeFirstOrThrow()
        ).device_row_id,
      ),
    /** Another action of the same device and rollout, in `state`; returns its id. */
    copyAction: async (id: number, state: string) => {
      const { id: _id, ...fields } = await fixture.database.db
        .selectFrom('actions')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      const copy = await fixture.database.db
        .insertInto('actions')
        .values({ ...fields, state })
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(copy.id);
    },
  };
  beforeEach(async () => {
    fixture.database = await openTestDatabase(kind);
    const bench = await EngineBench.open(fixture.database, {
      bandwidthBytesPerSecond: 1e9,
      maxDownloads: 100,
    });
    const devices = await bench.devices('batch', 3);
    await bench.rollout(devices, { canary: 0, batchSize: 0 });
    await bench.engine().tick();
    const rows = await fixture.database.db
      .selectFrom('actions')
      .select('id')
      .orderBy('id')
      .execute();
    fixture.actionIds.splice(0, Infinity, ...rows.map((row) => Number(row.id)));
  });
  afterEach(() => fixture.database?.close());
  return fixture;
}

/** Moves its action to `to` when allowed; its result is the state it found. */
function progress(actionId: number, to: ActionState): MoveRequest<string | null> {
  return {
    target: { actionId },
    decide: async (rows, now): Promise<MoveDecision<string | null>> => {
      const action = rows[0];
      if (!action) return { result: null };
      const events = [historyRow(action, `to.${to}`, now)];
      if (!canMove(action.state as ActionState, to)) return { events, result: action.state };
      return { move: { action, change: { state: to } }, events, result: action.state };
    },
  };
}

function historyRow(action: ActionRow, kind: string, now: number) {
  return {
    device_row_id: Number(action.device_row_id),
    action_id: Number(action.id),
    kind,
    detail: '{}',
    at: now,
  };
}
