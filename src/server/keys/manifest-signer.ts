import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import type { Kysely } from 'kysely';
import { manifestText } from '../../shared/protocol/messages.js';
import type { Database } from '../store/schema.js';

const PURPOSE = 'manifest-ed25519';

export interface Manifest {
  readonly app: string;
  readonly version: string;
  readonly size: number;
  readonly sha256: string;
}

interface SigningKey {
  readonly keyId: string;
  readonly publicKeyPem: string;
  readonly privateKey: KeyObject;
}

export class KeyImportError extends Error {
  override name = 'KeyImportError';
}

/**
 * Signs package manifests with Ed25519 so agents can refuse altered packages. The key is
 * created on first start or supplied by the operator (`tiota keys rotate-manifest
 * --private-key`), and kept in the database for every replica; agents pin the public key at
 * registration. Exactly one key signs; a rotation retires the others (docs/security.md).
 */
export class ManifestSigner {
  #key: SigningKey;

  private constructor(
    private readonly db: Kysely<Database>,
    key: SigningKey,
  ) {
    this.#key = key;
  }

  static async load(db: Kysely<Database>): Promise<ManifestSigner> {
    const active = await readActive(db);
    if (active) return new ManifestSigner(db, active);
    const { privateKey } = generateKeyPairSync('ed25519');
    const key = await store(db, privateKey);
    return new ManifestSigner(db, key);
  }

  get keyId(): string {
    return this.#key.keyId;
  }

  get publicKeyPem(): string {
    return this.#key.publicKeyPem;
  }

  get publicKey(): KeyObject {
    return createPublicKey(this.#key.publicKeyPem);
  }

  sign(manifest: Manifest): string {
    return sign(null, Buffer.from(manifestText(manifest)), this.#key.privateKey).toString('base64');
  }

  /** True when `signature` is the current key's over `manifest`. */
  verifies(manifest: Manifest, signature: string): boolean {
    try {
      const text = Buffer.from(manifestText(manifest));
      return verify(null, text, this.#key.publicKeyPem, Buffer.from(signature, 'base64'));
    } catch {
      return false;
    }
  }

  /** Re-reads the signing key (another replica may have rotated). */
  async refresh(): Promise<void> {
    const active = await readActive(this.db);
    if (active && active.keyId !== this.#key.keyId) this.#key = active;
  }

  /**
   * Makes a new signing key — generated, or the operator's own PEM (PKCS#8 Ed25519) — and
   * retires every other. Retired keys stay listed so old signatures can still be traced.
   */
  async rotate(privateKeyPem?: string): Promise<{ keyId: string; publicKeyPem: string }> {
    const privateKey =
      privateKeyPem === undefined
        ? generateKeyPairSync('ed25519').privateKey
        : parse(privateKeyPem);
    this.#key = await store(this.db, privateKey);
    return { keyId: this.#key.keyId, publicKeyPem: this.#key.publicKeyPem };
  }
}

function parse(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new KeyImportError('the private key is not a PEM private key');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new KeyImportError(`the private key must be Ed25519, not ${key.asymmetricKeyType}`);
  }
  return key;
}

/** Key ids name the key by its public half, so the same key imported twice is noticed. */
function keyIdOf(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return `ed25519-${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
}

async function store(db: Kysely<Database>, privateKey: KeyObject): Promise<SigningKey> {
  const publicKeyPem = createPublicKey(privateKey)
    .export({ type: 'spki', format: 'pem' })
    .toString();
  const keyId = keyIdOf(publicKeyPem);
  const now = Date.now();
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('signing_keys')
      .set({ retired_at: now })
      .where('purpose', '=', PURPOSE)
      .where('retired_at', 'is', null)
      .execute();
    await trx
      .insertInto('signing_keys')
      .values({
        purpose: PURPOSE,
        key_id: keyId,
        secret: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        public_key: publicKeyPem,
        created_at: now,
        retired_at: null,
      })
      .execute();
  });
  return { keyId, publicKeyPem, privateKey };
}

async function readActive(db: Kysely<Database>): Promise<SigningKey | null> {
  const row = await db
    .selectFrom('signing_keys')
    .selectAll()
    .where('purpose', '=', PURPOSE)
    .where('retired_at', 'is', null)
    .orderBy('id', 'desc')
    .executeTakeFirst();
  if (!row) return null;
  return {
    keyId: row.key_id,
    publicKeyPem: row.public_key ?? '',
    privateKey: createPrivateKey(row.secret),
  };
}
