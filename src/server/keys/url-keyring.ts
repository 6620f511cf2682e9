import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { TokenKeyring } from '../../shared/token/download-token.js';
import type { Database } from '../store/schema.js';

const PURPOSE = 'url-hmac';

/**
 * A new key signs only after this long, milliseconds (60 s by default): by then every replica
 * has re-read the keys (security-refresh.ts, every 30 s) and can check URLs it signs.
 */
export const URL_KEY_ACTIVATION_MS = 60_000;

interface UrlKey {
  readonly keyId: number;
  readonly secret: Buffer;
  readonly createdAt: number;
}

export interface UrlKeyView {
  readonly keyId: number;
  readonly createdAt: number;
  readonly retiredAt: number | null;
  /** The key new URLs are signed with. */
  readonly signing: boolean;
}

/**
 * The HMAC secrets that sign download URLs, kept in the database so every replica shares
 * them. The newest active key signs; every kept key verifies, so a rotation does not break
 * URLs already sent. A key is retired (verifies no more) once every URL it signed must have
 * expired, or at once when an operator suspects it leaked.
 */
export class UrlKeyring implements TokenKeyring {
  #keys: UrlKey[] = [];

  private constructor(
    private readonly db: Kysely<Database>,
    private readonly activationMs: number,
  ) {}

  static async load(
    db: Kysely<Database>,
    activationMs = URL_KEY_ACTIVATION_MS,
  ): Promise<UrlKeyring> {
    const keyring = new UrlKeyring(db, activationMs);
    await keyring.refresh();
    if (keyring.#keys.length === 0) await keyring.rotate({ retireOthers: false, urlTtlMs: 0 });
    return keyring;
  }

  secret(keyId: number): Buffer | undefined {
    return this.#keys.find((k) => k.keyId === keyId)?.secret;
  }

  /**
   * The newest key old enough to be known to every replica; while none is, the oldest (the
   * only one, on a first start or after `retireOthers`).
   */
  get currentKeyId(): number {
    const settled = Date.now() - this.activationMs;
    const ready = this.#keys.filter((k) => k.createdAt <= settled);
    return (ready.at(-1) ?? this.#keys[0])?.keyId ?? 0;
  }

  /** Re-reads keys (another replica may have rotated). */
  async refresh(): Promise<void> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .select(['key_id', 'secret', 'created_at'])
      .where('purpose', '=', PURPOSE)
      .where('retired_at', 'is', null)
      .orderBy('id')
      .execute();
    this.#keys = rows.map((row) => ({
      keyId: Number(row.key_id),
      secret: Buffer.from(row.secret, 'base64'),
      createdAt: Number(row.created_at),
    }));
  }

  async list(): Promise<UrlKeyView[]> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .select(['key_id', 'created_at', 'retired_at'])
      .where('purpose', '=', PURPOSE)
      .orderBy('id')
      .execute();
    const signing = this.currentKeyId;
    return rows.map((row) => ({
      keyId: Number(row.key_id),
      createdAt: Number(row.created_at),
      retiredAt: row.retired_at === null ? null : Number(row.retired_at),
      signing: row.retired_at === null && Number(row.key_id) === signing,
    }));
  }

  /**
   * Adds a signing key. Key ids are one byte of the URL token, so they cycle through 0..255:
   * the row whose id comes round again is 256 rotations old and replaced. `retireOthers`
   * (a suspected leak) makes every other key stop verifying at once, which also voids every
   * URL already sent; otherwise a key is retired once it was superseded longer than
   * `urlTtlMs` ago, when no URL it signed can still be valid.
   */
  async rotate(options: { retireOthers: boolean; urlTtlMs: number }): Promise<number> {
    const now = Date.now();
    const keyId = await this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('signing_keys')
        .select(['id', 'key_id', 'created_at', 'retired_at'])
        .where('purpose', '=', PURPOSE)
        .orderBy('id')
        .execute();
      const next = rows.length === 0 ? 0 : (Number(rows[rows.length - 1].key_id) + 1) % 256;
      const retire = retirable(rows, now, options);
      if (retire.length > 0) {
        await trx
          .updateTable('signing_keys')
          .set({ retired_at: now })
          .where('id', 'in', retire)
          .execute();
      }
      await trx
        .deleteFrom('signing_keys')
        .where('purpose', '=', PURPOSE)
        .where('key_id', '=', String(next))
        .execute();
      await trx
        .insertInto('signing_keys')
        .values({
          purpose: PURPOSE,
          key_id: String(next),
          secret: randomBytes(32).toString('base64'),
          public_key: null,
          created_at: now,
          retired_at: null,
        })
        .execute();
      return next;
    });
    await this.refresh();
    return keyId;
  }
}

/** Row ids of active keys to retire now; each key is superseded when the next was created. */
function retirable(
  rows: { id: number; created_at: number; retired_at: number | null }[],
  now: number,
  options: { retireOthers: boolean; urlTtlMs: number },
): number[] {
  const ids: number[] = [];
  rows.forEach((row, i) => {
    if (row.retired_at !== null) return;
    // The newest key is superseded by the one being made now.
    const supersededAt = i + 1 < rows.length ? Number(rows[i + 1].created_at) : now;
    const lastUrlExpiry = supersededAt + URL_KEY_ACTIVATION_MS + options.urlTtlMs;
    if (options.retireOthers || lastUrlExpiry < now) ids.push(Number(row.id));
  });
  return ids;
}
