import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { TokenKeyring } from '../../shared/token/download-token.js';
import type { Database } from '../store/schema.js';

const PURPOSE = 'url-hmac';

/**
 * The HMAC secrets that sign download URLs, kept in the database so every replica shares
 * them. The newest key signs; every kept key verifies, so rotating does not break URLs
 * already sent (they expire by themselves within the URL lifetime).
 */
export class UrlKeyring implements TokenKeyring {
  #secrets = new Map<number, Buffer>();
  #current = 0;

  private constructor(private readonly db: Kysely<Database>) {}

  static async load(db: Kysely<Database>): Promise<UrlKeyring> {
    const keyring = new UrlKeyring(db);
    await keyring.refresh();
    if (keyring.#secrets.size === 0) await keyring.rotate();
    return keyring;
  }

  secret(keyId: number): Buffer | undefined {
    return this.#secrets.get(keyId);
  }

  get currentKeyId(): number {
    return this.#current;
  }

  /** Re-reads keys (another replica may have rotated). */
  async refresh(): Promise<void> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .select(['key_id', 'secret', 'retired_at'])
      .where('purpose', '=', PURPOSE)
      .orderBy('id')
      .execute();
    const secrets = new Map<number, Buffer>();
    for (const row of rows) {
      if (row.retired_at !== null) continue;
      secrets.set(Number(row.key_id), Buffer.from(row.secret, 'base64'));
      this.#current = Number(row.key_id);
    }
    this.#secrets = secrets;
  }

  /** Adds a new signing key; ids cycle through 0..255, retiring the key whose id is reused. */
  async rotate(): Promise<number> {
    const count = await this.db
      .selectFrom('signing_keys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('purpose', '=', PURPOSE)
      .executeTakeFirstOrThrow();
    const keyId = Number(count.n) % 256;
    const now = Date.now();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('signing_keys')
        .where('purpose', '=', PURPOSE)
        .where('key_id', '=', String(keyId))
        .execute();
      await trx
        .insertInto('signing_keys')
        .values({
          purpose: PURPOSE,
          key_id: String(keyId),
          secret: randomBytes(32).toString('base64'),
          public_key: null,
          created_at: now,
          retired_at: null,
        })
        .execute();
    });
    await this.refresh();
    return keyId;
  }
}
