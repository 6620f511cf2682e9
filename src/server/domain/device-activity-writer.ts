import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { applyMoves, DecideFailure, type MoveRequest } from './action-move-batch.js';

/** Rows per multi-row insert and ids per `in (…)`: well under both databases' parameter limits. */
const CHUNK = 500;

export interface DeviceEventRow {
  readonly device_row_id: number;
  readonly action_id: number | null;
  readonly kind: string;
  readonly detail: string;
  readonly at: number;
}

/** What a hello writes to the device row: the same for many devices of one fleet. */
export interface HelloFields {
  readonly app_name: string;
  readonly app_version: string;
  readonly app_id: number | null;
  readonly profile: string | null;
}

/**
 * Least time from the end of one flush to the start of the next, ms. An idle server flushes at
 * once; under a storm of reports, waiting this long lets a batch gather what several turns of
 * the event loop bring, and a commit (a WAL write on SQLite) costs several updates' time.
 */
const LINGER_MS = 10;

/** Other work that joins the group commit; its result goes to whoever awaits it. */
type Work = (trx: Kysely<Database>) => Promise<unknown>;

/** One asked-for write and whoever awaits it. */
interface Item {
  readonly event?: DeviceEventRow;
  readonly work?: Work;
  readonly hello?: { readonly deviceRowId: number; readonly fields: HelloFields };
  /** A change of presence: its event is written only if the row really changed. */
  readonly presence?: { readonly deviceRowId: number; readonly online: boolean };
  /** A report's move of an action, decided inside the commit (action-move-batch.ts). */
  readonly move?: MoveRequest;
  /** Bytes the download server sent for an action. */
  readonly served?: { readonly actionId: number; readonly bytes: number };
  result?: unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Group commit for the device traffic that arrives by the thousand (hellos, presence, history):
 * every write asked for while the previous flush runs goes into the next one, one transaction
 * with multi-row inserts and one `update … where id in (…)` per distinct app/version. Callers
 * still await their own write, so nothing is read stale; an idle server flushes at once (next
 * turn of the event loop), a busy one in batches. One database commit per batch instead of
 * two per message is what lets the server keep up with a fleet reconnecting or reporting.
 */
export class DeviceActivityWriter {
  #next: Item[] = [];
  #scheduled = false;
  #flushing: Promise<void> | null = null;
  #lastFlushEnd = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly nowMs: () => number = Date.now,
  ) {}

  event(row: DeviceEventRow): Promise<void> {
    return this.#enqueue(row);
  }

  /** The device is online and runs `fields`; the event's time becomes its last_seen_at. */
  hello(deviceRowId: number, fields: HelloFields, event: DeviceEventRow): Promise<void> {
    return this.#enqueue(event, { deviceRowId, fields });
  }

  /**
   * Online or offline, only if the device was not already: the same news twice (last will
   * and disconnect) is one event.
   */
  presence(deviceRowId: number, online: boolean, event: DeviceEventRow): Promise<void> {
    return this.#enqueue(event, undefined, { deviceRowId, online });
  }

  /**
   * Decides and applies `request` inside the next group commit, with every other report's move
   * of that commit (action-move-batch.ts); resolves with its decision's result once committed.
   */
  move<T>(request: MoveRequest<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#next.push({ move: request, resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
  }

  /** Adds to an action's bytes served; a batch adds up each action's downloads in one update. */
  served(actionId: number, bytes: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#next.push({ served: { actionId, bytes }, resolve: () => resolve(), reject });
      this.#schedule();
    });
  }

  /**
   * Runs `work` inside the next group commit, in the order it was asked for, and resolves
   * with its result once that commit is done. For the action moves that device reports cause
   * by the thousand: a commit costs several times the conditional update itself.
   */
  inBatch<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#next.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
  }

  /** Resolves when everything asked for so far is committed. */
  async flush(): Promise<void> {
    while (this.#flushing || this.#scheduled)
      await (this.#flushing ?? new Promise((r) => setImmediate(r)));
  }

  #enqueue(
    event: DeviceEventRow,
    hello?: Item['hello'],
    presence?: Item['presence'],
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#next.push({ event, hello, presence, resolve: () => resolve(), reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    const run = () => {
      this.#scheduled = false;
      const batch = this.#next;
      this.#next = [];
      this.#flushing = this.#write(batch).finally(() => {
        this.#flushing = null;
        this.#lastFlushEnd = performance.now();
        if (this.#next.length > 0) this.#schedule();
      });
    };
    // At least everything that arrived in this turn of the event loop goes in together, and
    // right after a flush, what arrives during the linger too.
    const wait = this.#lastFlushEnd + LINGER_MS - performance.now();
    if (wait > 0) setTimeout(run, wait);
    else setImmediate(run);
  }

  async #write(batch: Item[]): Promise<void> {
    try {
      const now = this.nowMs();
      await this.db.transaction().execute((trx) => writeBatch(trx, batch, now));
      for (const item of batch) {
        if (item.result instanceof DecideFailure) item.reject(item.result.error);
        else item.resolve(item.result);
      }
    } catch (error) {
      if (batch.length === 1) return batch[0].reject(error);
      // One bad row (a device deleted meanwhile) must not fail its neighbours' writes.
      for (const item of batch) await this.#write([item]);
    }
  }
}

async function writeBatch(
  trx: Kysely<Database>,
  batch: readonly Item[],
  now: number,
): Promise<void> {
  // Batch order holds per device: pending hellos are written before a presence change of
  // one of their devices (a hello, then the connection dropped: offline wins).
  const hellos: Item[] = [];
  const helloDevices = new Set<number>();
  const events: DeviceEventRow[] = [];
  const works: Item[] = [];
  const moves: Item[] = [];
  const served = new Map<number, number>();
  for (const item of batch) {
    const { presence, hello, event, work, move } = item;
    if (work) {
      works.push(item);
      continue;
    }
    if (move) {
      moves.push(item);
      continue;
    }
    if (item.served) {
      const { actionId, bytes } = item.served;
      served.set(actionId, (served.get(actionId) ?? 0) + bytes);
      continue;
    }
    if (!event) continue;
    if (presence) {
      if (helloDevices.has(presence.deviceRowId)) {
        await writeHellos(trx, hellos.splice(0));
        helloDevices.clear();
      }
      const result = await trx
        .updateTable('devices')
        .set({ online: presence.online ? 1 : 0, last_seen_at: event.at })
        .where('id', '=', presence.deviceRowId)
        .where('online', '=', presence.online ? 0 : 1)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) events.push(event);
      continue;
    }
    if (hello) {
      hellos.push(item);
      helloDevices.add(hello.deviceRowId);
    }
    events.push(event);
  }
  await writeHellos(trx, hellos);
  // The moves' history rows follow the batch's other rows: a report's "status.failed", then
  // the "failed" it caused.
  const applied = await applyMoves(
    trx,
    moves.map((item) => item.move!),
    now,
  );
  moves.forEach((item, i) => (item.result = applied.results[i]));
  await insertEvents(trx, [...events, ...applied.events]);
  await addServed(trx, served);
  // Work runs after the batch's hellos and events, in the order asked for. A device's messages
  // are handled one after the other, so what one handler asked for shares a batch only with
  // other devices' writes: its history reads hello, then the success that hello proves.
  for (const item of works) item.result = await item.work!(trx);
}

async function insertEvents(
  trx: Kysely<Database>,
  events: readonly DeviceEventRow[],
): Promise<void> {
  for (let i = 0; i < events.length; i += CHUNK) {
    await trx
      .insertInto('device_events')
      .values(events.slice(i, i + CHUNK))
      .execute();
  }
}

/** Bytes served, one update per distinct amount (the downloads of one package add the same). */
async function addServed(trx: Kysely<Database>, served: ReadonlyMap<number, number>) {
  const byAmount = new Map<number, number[]>();
  for (const [actionId, bytes] of served) {
    const ids = byAmount.get(bytes) ?? [];
    byAmount.set(bytes, ids);
    ids.push(actionId);
  }
  for (const [bytes, ids] of byAmount) {
    for (let i = 0; i < ids.length; i += CHUNK) {
      await trx
        .updateTable('actions')
        .set((eb) => ({ bytes_served: eb('bytes_served', '+', bytes) }))
        .where('id', 'in', ids.slice(i, i + CHUNK))
        .execute();
    }
  }
}

async function writeHellos(trx: Kysely<Database>, items: readonly Item[]): Promise<void> {
  // A device's latest hello wins; then devices are grouped by what they write, and
  // last_seen_at is each group's latest (they differ by the milliseconds one batch spans).
  const latest = new Map<number, { fields: HelloFields; at: number }>();
  for (const { hello, event } of items) {
    if (hello && event) latest.set(hello.deviceRowId, { fields: hello.fields, at: event.at });
  }
  const groups = new Map<string, { fields: HelloFields; ids: number[]; at: number }>();
  for (const [rowId, { fields, at }] of latest) {
    const key = JSON.stringify(fields);
    const group = groups.get(key) ?? { fields, ids: [], at: 0 };
    groups.set(key, group);
    group.ids.push(rowId);
    group.at = Math.max(group.at, at);
  }
  for (const { fields, ids, at } of groups.values()) {
    for (let i = 0; i < ids.length; i += CHUNK) {
      await trx
        .updateTable('devices')
        .set({ ...fields, online: 1, last_seen_at: at })
        .where('id', 'in', ids.slice(i, i + CHUNK))
        .execute();
    }
  }
}
