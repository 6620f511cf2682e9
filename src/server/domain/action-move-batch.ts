import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { ACTIVE_STATES, canMove, type ActionState } from './action-state.js';
import { changeSet, type ActionChange, type ActionRow } from './action-store.js';
import type { DeviceEventRow } from './device-activity-writer.js';

/** Ids per `in (…)`: well under both databases' parameter limits. */
const CHUNK = 500;

/**
 * Times a batch decides again the requests whose action changed under it (another replica's
 * move on PostgreSQL); then they are given up (decided on no rows).
 */
const ROUNDS = 3;

/** Which actions a request is decided on. */
export type MoveTarget =
  | { readonly actionId: number }
  /** The device's unfinished actions, newest first: what a hello may answer. */
  | { readonly activeOfDevice: number };

export interface MoveDecision<T> {
  /** The action to move (one of the rows given) and how; none: nothing moves. */
  readonly move?: { readonly action: ActionRow; readonly change: ActionChange };
  /** History rows, written with the move (and with no move, on their own). */
  readonly events?: readonly DeviceEventRow[];
  /** What the request's caller receives once the batch is committed. */
  readonly result: T;
}

/**
 * A change a device report asks of an action, decided on the row as the batch finds it: after
 * what the requests before it in the same batch did to that row.
 */
export interface MoveRequest<T = unknown> {
  readonly target: MoveTarget;
  decide(rows: readonly ActionRow[], now: number, trx: Kysely<Database>): Promise<MoveDecision<T>>;
}

/**
 * A request whose decide() threw: its caller gets the error, and the batch goes on without it.
 * One device's bad report must not make every batch it joins fall back to one commit per item.
 */
export class DecideFailure {
  constructor(readonly error: unknown) {}
}

export interface AppliedMoves {
  /** Each request's result, in request order (a DecideFailure for one whose decide threw). */
  readonly results: unknown[];
  /** History rows of the decisions that stand, in request order. */
  readonly events: DeviceEventRow[];
}

/**
 * Applies a batch of reports to their actions with a few statements instead of a few per
 * report: every action the batch needs is read in one query, each request is decided in
 * memory in order (a device's "accepted" then "downloading" in one batch become one update),
 * and actions that end the same way are written by one `update … where id in (…)`.
 *
 * Each update stays conditional on the state the batch read, as a single move is
 * (action-store.ts): an action another replica moved meanwhile is not overwritten; the requests
 * on it are decided again on the row as it is now.
 */
export async function applyMoves(
  trx: Kysely<Database>,
  requests: readonly MoveRequest[],
  now: number,
): Promise<AppliedMoves> {
  const results: unknown[] = new Array(requests.length);
  const standing = new Map<number, readonly DeviceEventRow[]>();
  let pending = requests.map((_, index) => index);
  for (let round = 0; round < ROUNDS && pending.length > 0; round++) {
    const rows = await readRows(
      trx,
      pending.map((i) => requests[i].target),
    );
    const decided = await decideInOrder(trx, requests, pending, rows, now);
    const missed = await writeMoves(trx, decided.moves);
    const again: number[] = [];
    for (const index of pending) {
      const decision = decided.decisions.get(index)!;
      if (touches(requests[index].target, decision, missed, rows.original)) again.push(index);
      else {
        results[index] = decision.result;
        standing.set(index, decision.events ?? []);
      }
    }
    pending = again;
  }
  for (const index of pending)
    results[index] = (await decideOne(requests[index], [], now, trx)).result;
  const events = [...standing.keys()].sort((a, b) => a - b).flatMap((i) => standing.get(i)!);
  return { results, events };
}

/** Actions as the database holds them, and as the batch's decisions have changed them so far. */
interface BatchRows {
  readonly original: ReadonlyMap<number, ActionRow>;
  readonly current: Map<number, ActionRow>;
  readonly byDevice: ReadonlyMap<number, readonly number[]>;
}

async function readRows(trx: Kysely<Database>, targets: readonly MoveTarget[]): Promise<BatchRows> {
  const actionIds = new Set<number>();
  const deviceIds = new Set<number>();
  for (const target of targets) {
    if ('actionId' in target) actionIds.add(target.actionId);
    else deviceIds.add(target.activeOfDevice);
  }
  const found: ActionRow[] = [];
  for (const ids of chunks([...actionIds])) {
    found.push(...(await trx.selectFrom('actions').selectAll().where('id', 'in', ids).execute()));
  }
  for (const ids of chunks([...deviceIds])) {
    found.push(
      ...(await trx
        .selectFrom('actions')
        .selectAll()
        .where('device_row_id', 'in', ids)
        .where('state', 'in', [...ACTIVE_STATES])
        .execute()),
    );
  }
  const original = new Map<number, ActionRow>(found.map((row) => [Number(row.id), row]));
  const byDevice = new Map<number, number[]>();
  for (const [id, row] of original) {
    const device = Number(row.device_row_id);
    if (!deviceIds.has(device) || !ACTIVE_STATES.includes(row.state as ActionState)) continue;
    const ids = byDevice.get(device) ?? [];
    byDevice.set(device, ids);
    ids.push(id);
  }
  return { original, current: new Map(original), byDevice };
}

/** One action's net write in a batch: its state when read, and every column its moves set. */
interface NetMove {
  readonly from: string;
  readonly set: Partial<ActionRow>;
}

async function decideInOrder(
  trx: Kysely<Database>,
  requests: readonly MoveRequest[],
  pending: readonly number[],
  rows: BatchRows,
  now: number,
): Promise<{ decisions: Map<number, MoveDecision<unknown>>; moves: Map<number, NetMove> }> {
  const decisions = new Map<number, MoveDecision<unknown>>();
  const moves = new Map<number, NetMove>();
  for (const index of pending) {
    const decision = await decideOne(
      requests[index],
      rowsFor(requests[index].target, rows),
      now,
      trx,
    );
    decisions.set(index, decision);
    const move = decision.move;
    if (!move) continue;
    const id = Number(move.action.id);
    const row = rows.current.get(id);
    // Only a row of this batch, moved from the state it is in now, can be written.
    if (!row || !canMove(row.state as ActionState, move.change.state)) {
      throw new Error(`action ${id}: a decision moved it from a state it is not in`);
    }
    const set = changeSet(move.change, now);
    const net = moves.get(id) ?? { from: rows.original.get(id)!.state, set: {} };
    Object.assign(net.set, set);
    moves.set(id, net);
    rows.current.set(id, { ...row, ...set });
  }
  return { decisions, moves };
}

async function decideOne(
  request: MoveRequest,
  rows: readonly ActionRow[],
  now: number,
  trx: Kysely<Database>,
): Promise<MoveDecision<unknown>> {
  try {
    return await request.decide(rows, now, trx);
  } catch (error) {
    // A database error has already failed the transaction on PostgreSQL; the batch's next
    // statement then fails and the writer commits its items one by one, as for any error.
    return { result: new DecideFailure(error) };
  }
}

function rowsFor(target: MoveTarget, rows: BatchRows): ActionRow[] {
  if ('actionId' in target) {
    const row = rows.current.get(target.actionId);
    return row ? [row] : [];
  }
  const ids = rows.byDevice.get(target.activeOfDevice) ?? [];
  return ids
    .map((id) => rows.current.get(id)!)
    .filter((row) => ACTIVE_STATES.includes(row.state as ActionState))
    .sort((a, b) => Number(b.id) - Number(a.id));
}

/**
 * Writes the net moves, one update per distinct (state read, columns set); returns the ids of
 * actions whose state was no longer the one read.
 */
async function writeMoves(
  trx: Kysely<Database>,
  moves: ReadonlyMap<number, NetMove>,
): Promise<Set<number>> {
  const groups = new Map<string, { net: NetMove; ids: number[] }>();
  for (const [id, net] of moves) {
    const key = `${net.from}\n${JSON.stringify(net.set)}`;
    const group = groups.get(key) ?? { net, ids: [] };
    groups.set(key, group);
    group.ids.push(id);
  }
  const missed = new Set<number>();
  for (const { net, ids } of groups.values()) {
    for (const chunk of chunks(ids)) {
      const updated = await trx
        .updateTable('actions')
        .set(net.set)
        .where('id', 'in', chunk)
        .where('state', '=', net.from)
        .returning('id')
        .execute();
      const moved = new Set(updated.map((row) => Number(row.id)));
      for (const id of chunk) if (!moved.has(id)) missed.add(id);
    }
  }
  return missed;
}

/**
 * Whether a request is decided again: its move was not written, or it moved nothing while an
 * action it was given changed under the batch (on the fresh row it might decide otherwise).
 * A request whose move was written stands, whatever happened to the device's other actions.
 */
function touches(
  target: MoveTarget,
  decision: MoveDecision<unknown>,
  missed: ReadonlySet<number>,
  original: ReadonlyMap<number, ActionRow>,
): boolean {
  if (missed.size === 0) return false;
  if (decision.move) return missed.has(Number(decision.move.action.id));
  if ('actionId' in target) return missed.has(target.actionId);
  for (const id of missed) {
    if (Number(original.get(id)?.device_row_id) === target.activeOfDevice) return true;
  }
  return false;
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}
