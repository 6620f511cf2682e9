import type { Kysely } from 'kysely';
import type { Actor, AuditLog } from '../domain/audit-log.js';
import { TiotaError } from '../errors.js';
import type { Database } from '../store/schema.js';
import { KeyImportError, type ManifestSigner } from './manifest-signer.js';
import type { UrlKeyring, UrlKeyView } from './url-keyring.js';

export interface ManifestKeyView {
  readonly keyId: string;
  readonly publicKey: string;
  readonly createdAt: number;
  readonly retiredAt: number | null;
  readonly signing: boolean;
  /** Packages whose stored signature names this key. */
  readonly packages: number;
}

/**
 * The operator's side of both key sets: list them (never a secret), rotate the URL HMAC key,
 * rotate or import the manifest key, and re-sign packages with the current manifest key.
 * Each change is audited. The procedures around them are in docs/security.md.
 */
export class KeyRotation {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly audit: AuditLog,
    readonly urlKeys: UrlKeyring,
    readonly manifestKeys: ManifestSigner,
    private readonly urlTtlSeconds: number,
  ) {}

  async list(): Promise<{ url: UrlKeyView[]; manifest: ManifestKeyView[] }> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .select(['key_id', 'public_key', 'created_at', 'retired_at'])
      .where('purpose', '=', 'manifest-ed25519')
      .orderBy('id')
      .execute();
    const counts = await this.db
      .selectFrom('packages')
      .select(['signing_key_id', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('signing_key_id')
      .execute();
    const used = new Map(counts.map((c) => [c.signing_key_id, Number(c.n)]));
    const manifest = rows.map((row) => ({
      keyId: row.key_id,
      publicKey: row.public_key ?? '',
      createdAt: Number(row.created_at),
      retiredAt: row.retired_at === null ? null : Number(row.retired_at),
      signing: row.key_id === this.manifestKeys.keyId,
      packages: used.get(row.key_id) ?? 0,
    }));
    return { url: await this.urlKeys.list(), manifest };
  }

  async rotateUrl(options: { retireOthers: boolean }, actor: Actor): Promise<{ keyId: number }> {
    const urlTtlMs = this.urlTtlSeconds * 1000;
    const keyId = await this.urlKeys.rotate({ retireOthers: options.retireOthers, urlTtlMs });
    await this.audit.record(actor, 'key.rotate_url', `key:url-hmac:${keyId}`, { ...options });
    return { keyId };
  }

  async rotateManifest(
    options: { privateKeyPem?: string; resign: boolean },
    actor: Actor,
  ): Promise<{ keyId: string; publicKey: string; resigned: number }> {
    const previous = this.manifestKeys.keyId;
    let made: { keyId: string; publicKeyPem: string };
    try {
      made = await this.manifestKeys.rotate(options.privateKeyPem);
    } catch (error) {
      if (error instanceof KeyImportError) throw new TiotaError('validation_failed', error.message);
      if (/unique|duplicate/i.test(String((error as Error).message))) {
        throw new TiotaError('key_exists', 'the supplied manifest key');
      }
      throw error;
    }
    const detail = { previous, imported: options.privateKeyPem !== undefined };
    await this.audit.record(actor, 'key.rotate_manifest', `key:${made.keyId}`, detail);
    const resigned = options.resign ? (await this.resign(actor)).resigned : 0;
    return { keyId: made.keyId, publicKey: made.publicKeyPem, resigned };
  }

  /**
   * Signs again, with the current key, every package whose signature the current key does
   * not verify. Idempotent: run it again after replicas have caught up with a rotation.
   */
  async resign(actor: Actor): Promise<{ keyId: string; resigned: number }> {
    const signer = this.manifestKeys;
    const keyId = signer.keyId;
    const rows = await this.db
      .selectFrom('packages')
      .select(['id', 'app_name', 'version', 'size', 'sha256', 'signature'])
      .execute();
    let resigned = 0;
    for (const row of rows) {
      const manifest = {
        app: row.app_name,
        version: row.version,
        size: Number(row.size),
        sha256: row.sha256,
      };
      if (signer.verifies(manifest, row.signature)) continue;
      await this.db
        .updateTable('packages')
        .set({ signature: signer.sign(manifest), signing_key_id: keyId })
        .where('id', '=', row.id)
        .execute();
      resigned++;
    }
    await this.audit.record(actor, 'key.resign_packages', `key:${keyId}`, { resigned });
    return { keyId, resigned };
  }
}
