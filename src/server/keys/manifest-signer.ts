import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
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

/**
 * Signs package manifests with Ed25519 so agents can refuse altered packages. The key is
 * created on first start (or imported) and kept in the database for every replica; agents pin
 * the public key at registration. Rotation: docs/security.md.
 */
export class ManifestSigner {
  private constructor(
    readonly keyId: string,
    readonly publicKeyPem: string,
    readonly privateKey: KeyObject,
  ) {}

  static async load(db: Kysely<Database>): Promise<ManifestSigner> {
    const row = await db
      .selectFrom('signing_keys')
      .selectAll()
      .where('purpose', '=', PURPOSE)
      .where('retired_at', 'is', null)
      .orderBy('id', 'desc')
      .executeTakeFirst();
    if (row) {
      return new ManifestSigner(row.key_id, row.public_key ?? '', createPrivateKey(row.secret));
    }
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const keyId = `ed25519-${Date.now().toString(36)}`;
    const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await db
      .insertInto('signing_keys')
      .values({
        purpose: PURPOSE,
        key_id: keyId,
        secret: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        public_key: publicKeyPem,
        created_at: Date.now(),
        retired_at: null,
      })
      .execute();
    return new ManifestSigner(keyId, publicKeyPem, privateKey);
  }

  sign(manifest: Manifest): string {
    return sign(null, Buffer.from(manifestText(manifest)), this.privateKey).toString('base64');
  }

  get publicKey(): KeyObject {
    return createPublicKey(this.publicKeyPem);
  }
}
