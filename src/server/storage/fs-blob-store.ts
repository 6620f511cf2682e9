import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobStore, StagedBlob, StageOptions } from './blob-store.js';
import { writeHashed } from './hashing-writer.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Packages on the local file system: `<root>/sha256/<first two hex>/<hash>`. Uploads land in
 * `<root>/tmp` and are renamed into place, so a crash mid-upload leaves no visible package
 * (leftovers in tmp are swept on start).
 */
export class FsBlobStore implements BlobStore {
  readonly #root: string;

  private constructor(root: string) {
    this.#root = root;
  }

  static async open(root: string): Promise<FsBlobStore> {
    await rm(path.join(root, 'tmp'), { recursive: true, force: true });
    await mkdir(path.join(root, 'tmp'), { recursive: true });
    await mkdir(path.join(root, 'sha256'), { recursive: true });
    return new FsBlobStore(root);
  }

  async stage(source: Readable, options: StageOptions): Promise<StagedBlob> {
    const temp = path.join(this.#root, 'tmp', randomUUID());
    const digests = await writeHashed(source, temp, options);
    const final = this.#pathOf(digests.sha256);
    return {
      ...digests,
      commit: async () => {
        await mkdir(path.dirname(final), { recursive: true });
        // Same bytes already stored: keep the existing file (content-addressed).
        await rename(temp, final);
      },
      discard: () => unlink(temp).catch(() => undefined),
    };
  }

  async localPath(sha256: string): Promise<string> {
    return this.#pathOf(sha256);
  }

  async has(sha256: string): Promise<boolean> {
    return stat(this.#pathOf(sha256)).then(
      () => true,
      () => false,
    );
  }

  async delete(sha256: string): Promise<void> {
    await unlink(this.#pathOf(sha256)).catch(() => undefined);
  }

  #pathOf(sha256: string): string {
    // The hash is the only thing that ever names a file here.
    if (!SHA256_HEX.test(sha256)) throw new Error(`not a SHA-256 hex digest: ${sha256}`);
    return path.join(this.#root, 'sha256', sha256.slice(0, 2), sha256);
  }
}
