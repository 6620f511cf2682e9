import type { Kysely, Selectable } from 'kysely';
import type { Readable } from 'node:stream';
import { TapkError, TapkStreamChecker, type TapkInfo } from '../../shared/tapk/index.js';
import { TiotaError } from '../errors.js';
import { ACTIVE_STATES } from './action-state.js';
import type { ManifestSigner } from '../keys/manifest-signer.js';
import type { BlobStore } from '../storage/blob-store.js';
import { dialectOf } from '../store/dialect.js';
import type { Database, PackagesTable } from '../store/schema.js';
import type { Actor, AuditLog } from './audit-log.js';

export interface UploadRequest {
  readonly body: Readable;
  /** The client's file name: shown and stored as text, never used as a path. */
  readonly fileName: string;
  readonly version: string;
  /** Required for files that are not .tapk; for a .tapk it must match the trailer if given. */
  readonly appName?: string;
  /** Digests the client declares (hex); a mismatch refuses the upload. */
  readonly declared?: { sha256?: string; sha1?: string; md5?: string };
}

export interface PackageView {
  readonly id: number;
  readonly app: string;
  readonly version: string;
  readonly fileName: string;
  readonly size: number;
  readonly sha256: string;
  readonly kind: 'tapk' | 'file';
  readonly tapk: {
    name: string;
    description: string;
    buildTime: number;
    buildTimeIso: string;
    crc: string;
  } | null;
  readonly signature: string;
  readonly signingKeyId: string;
  readonly createdAt: number;
  readonly createdBy: string;
}

const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
const APP_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$/;

export class PackageService {
  /** Called when a package disappears, so caches (download path) forget it. */
  onDeleted: (id: number) => void = () => undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly blobs: BlobStore,
    private readonly signer: ManifestSigner,
    private readonly audit: AuditLog,
    private readonly maxUploadBytes: number,
  ) {}

  /**
   * Streams an upload to storage while hashing and checking it. Nothing becomes visible
   * unless every check passes: a refused or interrupted upload leaves no row and no file.
   */
  async upload(request: UploadRequest, actor: Actor): Promise<PackageView> {
    if (!VERSION_PATTERN.test(request.version)) {
      throw new TiotaError(
        'validation_failed',
        'version must be 1-64 characters: letters, digits and . _ + - (e.g. 1.2.0)',
      );
    }
    const checker = new TapkStreamChecker();
    const staged = await this.blobs.stage(request.body, {
      maxBytes: this.maxUploadBytes,
      observe: (chunk) => checker.update(chunk),
    });

    try {
      const tapk = this.#checkTapk(checker, request.fileName);
      const appName = tapk?.name ?? request.appName;
      if (!appName || !APP_PATTERN.test(appName)) {
        throw new TiotaError(
          'validation_failed',
          'app name is required for a file that is not a .tapk (1-64 letters, digits, . _ - or space)',
        );
      }
      if (tapk && request.appName && request.appName !== tapk.name) {
        throw new TiotaError(
          'validation_failed',
          `app name "${request.appName}" differs from the .tapk's own name "${tapk.name}"`,
        );
      }
      for (const alg of ['sha256', 'sha1', 'md5'] as const) {
        const declared = request.declared?.[alg]?.toLowerCase();
        if (declared && declared !== staged[alg]) {
          throw new TiotaError('digest_mismatch', alg.toUpperCase().replace('SHA', 'SHA-'));
        }
      }
      const existing = await this.db
        .selectFrom('packages')
        .select('id')
        .where('app_name', '=', appName)
        .where('version', '=', request.version)
        .executeTakeFirst();
      if (existing) throw new TiotaError('package_exists', `${appName} ${request.version}`);

      await staged.commit();
      return await this.#insert(request, appName, tapk, staged, actor);
    } catch (error) {
      await staged.discard();
      throw error;
    }
  }

  #checkTapk(checker: TapkStreamChecker, fileName: string): TapkInfo | null {
    try {
      return checker.finish();
    } catch (error) {
      if (!(error instanceof TapkError)) throw error;
      const claimsTapk = fileName.toLowerCase().endsWith('.tapk');
      // A file that neither is named .tapk nor carries the magic is opaque firmware.
      if (!claimsTapk && (error.problem === 'bad_magic' || error.problem === 'too_short'))
        return null;
      throw new TiotaError('tapk_invalid', error.message);
    }
  }

  async #insert(
    request: UploadRequest,
    appName: string,
    tapk: TapkInfo | null,
    staged: { sha256: string; size: number },
    actor: Actor,
  ): Promise<PackageView> {
    const signature = this.signer.sign({
      app: appName,
      version: request.version,
      size: staged.size,
      sha256: staged.sha256,
    });
    try {
      const row = await this.db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('packages')
          .values({
            app_name: appName,
            version: request.version,
            file_name: request.fileName.slice(0, 255),
            size: staged.size,
            sha256: staged.sha256,
            kind: tapk ? 'tapk' : 'file',
            tapk_name: tapk?.name ?? null,
            tapk_description: tapk?.description ?? null,
            tapk_build_time: tapk?.buildTime ?? null,
            tapk_crc: tapk?.crc ?? null,
            signature,
            signing_key_id: this.signer.keyId,
            created_at: Date.now(),
            created_by: actor.name,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await this.audit.record(
          actor,
          'package.upload',
          `package:${inserted.id}`,
          { app: appName, version: request.version, sha256: staged.sha256, size: staged.size },
          trx,
        );
        return inserted;
      });
      return toView(row);
    } catch (error) {
      await this.#deleteBlobIfUnused(staged.sha256);
      if (String((error as Error).message).match(/unique|duplicate/i)) {
        throw new TiotaError('package_exists', `${appName} ${request.version}`);
      }
      throw error;
    }
  }

  async list(filter: { app?: string } = {}): Promise<PackageView[]> {
    let query = this.db.selectFrom('packages').selectAll().orderBy('id', 'desc');
    if (filter.app) query = query.where('app_name', '=', filter.app);
    return (await query.execute()).map(toView);
  }

  /** `db`: a transaction to read in, for callers inside one. */
  async get(id: number, db = this.db): Promise<PackageView> {
    const pkg = await this.find(id, db);
    if (!pkg) throw new TiotaError('not_found', `package ${id}`);
    return pkg;
  }

  /**
   * Inside the transaction that creates a rollout of the package: keeps the package from
   * being deleted until that transaction ends, and fails with not_found if it already was.
   */
  async holdForRollout(trx: Kysely<Database>, id: number): Promise<void> {
    if (!(await lockedRow(trx, id, 'share'))) throw new TiotaError('not_found', `package ${id}`);
  }

  /** The package, or null when there is none with this id. */
  async find(id: number, db = this.db): Promise<PackageView | null> {
    const row = await db.selectFrom('packages').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toView(row) : null;
  }

  async delete(id: number, actor: Actor): Promise<void> {
    const pkg = await this.db.transaction().execute(async (trx) => {
      // Locked first: a rollout being created at this moment holds the row too (see
      // holdForRollout), so one of the two waits for the other and sees what it did.
      const pkg = await lockedRow(trx, id, 'update');
      if (!pkg) throw new TiotaError('not_found', `package ${id}`);
      await assertUnused(trx, id);
      await trx.deleteFrom('packages').where('id', '=', id).execute();
      await this.audit.record(
        actor,
        'package.delete',
        `package:${id}`,
        { app: pkg.app_name, version: pkg.version },
        trx,
      );
      return pkg;
    });
    this.onDeleted(id);
    await this.#deleteBlobIfUnused(pkg.sha256);
  }

  async #deleteBlobIfUnused(sha256: string): Promise<void> {
    const user = await this.db
      .selectFrom('packages')
      .select('id')
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    if (!user) await this.blobs.delete(sha256);
  }
}

export function toView(row: Selectable<PackagesTable>): PackageView {
  return {
    id: Number(row.id),
    app: row.app_name,
    version: row.version,
    fileName: row.file_name,
    size: Number(row.size),
    sha256: row.sha256,
    kind: row.kind === 'tapk' ? 'tapk' : 'file',
    tapk:
      row.kind === 'tapk'
        ? {
            name: row.tapk_name ?? '',
            description: row.tapk_description ?? '',
            buildTime: Number(row.tapk_build_time),
            buildTimeIso: new Date(Number(row.tapk_build_time) * 1000).toISOString(),
            crc: `0x${Number(row.tapk_crc).toString(16).padStart(4, '0')}`,
          }
        : null,
    signature: row.signature,
    signingKeyId: row.signing_key_id,
    createdAt: Number(row.created_at),
    createdBy: row.created_by,
  };
}

/**
 * The package row, locked until the transaction ends on PostgreSQL (`for update` to delete
 * it, `for share` to use it). SQLite runs one write transaction at a time, which serializes
 * the same steps without a lock.
 */
async function lockedRow(
  trx: Kysely<Database>,
  id: number,
  mode: 'update' | 'share',
): Promise<Selectable<PackagesTable> | undefined> {
  let query = trx.selectFrom('packages').selectAll().where('id', '=', id);
  if (dialectOf(trx) === 'postgres')
    query = mode === 'update' ? query.forUpdate() : query.forShare();
  return query.executeTakeFirst();
}

/** Refuses to delete a package that rollouts or devices still need. */
async function assertUnused(trx: Kysely<Database>, id: number): Promise<void> {
  const active = await trx
    .selectFrom('rollouts')
    .select(['id', 'status'])
    .where('package_id', '=', id)
    .where('status', 'in', ['running', 'paused'])
    .executeTakeFirst();
  if (active) {
    throw new TiotaError('package_in_use', String(id), `rollout ${active.id} is ${active.status}`);
  }
  // A canceled rollout's devices that had started keep going, and what they report back is
  // judged against this package: it stays until they finish or their deadlines pass.
  const working = await trx
    .selectFrom('actions')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('package_id', '=', id)
    .where('state', 'in', [...ACTIVE_STATES])
    .executeTakeFirstOrThrow();
  if (Number(working.n) > 0) {
    throw new TiotaError(
      'package_in_use',
      String(id),
      `${working.n} device(s) are still installing it; delete it once they finish or time out`,
    );
  }
}
