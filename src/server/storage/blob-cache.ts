import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * A replica's local copy of packages kept elsewhere (object storage), because downloads stream
 * from local files (DESIGN: devices get 200 + Content-Length from this server, no redirect).
 * Files are named by SHA-256 under `<root>/sha256/<first two hex>/<hash>` and only ever land
 * there by rename once their bytes were checked, so a file present is a file complete.
 *
 * The cache keeps at most `maxBytes`, evicting the least recently used files. An evicted file
 * that a download still has open keeps streaming (POSIX unlink semantics); `onEvicted` tells the
 * download cache to resolve the package again next time, which fetches it anew.
 */
export class BlobCache {
  /** Files present, least recently used first (Map keeps insertion order). */
  readonly #entries = new Map<string, number>();
  readonly #filling = new Map<string, Promise<string>>();
  #bytes = 0;
  onEvicted: (sha256: string) => void = () => undefined;

  private constructor(
    private readonly root: string,
    private readonly maxBytes: number,
    private readonly log: Logger,
  ) {}

  /** Opens the cache, sweeping half-written files and indexing what is there (oldest first). */
  static async open(root: string, maxBytes: number, log: Logger): Promise<BlobCache> {
    const cache = new BlobCache(root, maxBytes, log);
    await rm(cache.tempDir, { recursive: true, force: true });
    await mkdir(cache.tempDir, { recursive: true });
    await mkdir(path.join(root, 'sha256'), { recursive: true });

    const found: { sha256: string; size: number; mtime: number }[] = [];
    for (const dir of await readdir(path.join(root, 'sha256'))) {
      for (const name of await readdir(path.join(root, 'sha256', dir)).catch(() => [])) {
        if (!SHA256_HEX.test(name)) continue;
        const info = await stat(cache.pathOf(name));
        found.push({ sha256: name, size: info.size, mtime: info.mtimeMs });
      }
    }
    for (const f of found.sort((a, b) => a.mtime - b.mtime)) cache.#add(f.sha256, f.size);
    await cache.#evict(null);
    return cache;
  }

  /** Where staging files go: same file system as the cache, so adopting one is a rename. */
  get tempDir(): string {
    return path.join(this.root, 'tmp');
  }

  get bytes(): number {
    return this.#bytes;
  }

  newTempPath(): string {
    return path.join(this.tempDir, randomUUID());
  }

  pathOf(sha256: string): string {
    // The hash is the only thing that ever names a file here.
    if (!SHA256_HEX.test(sha256)) throw new Error(`not a SHA-256 hex digest: ${sha256}`);
    return path.join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  /** The cached file, marked as just used; null when it is not here. */
  lookup(sha256: string): string | null {
    const size = this.#entries.get(sha256);
    if (size === undefined) return null;
    this.#entries.delete(sha256);
    this.#entries.set(sha256, size);
    return this.pathOf(sha256);
  }

  /**
   * The cached file, fetched first when missing. `fetch` writes the bytes to the temp path it
   * is given and must reject unless they hash to `sha256`. Concurrent callers share one fetch.
   */
  get(sha256: string, fetch: (tempPath: string) => Promise<void>): Promise<string> {
    const hit = this.lookup(sha256);
    if (hit) return Promise.resolve(hit);
    let filling = this.#filling.get(sha256);
    if (!filling) {
      filling = this.#fill(sha256, fetch).finally(() => this.#filling.delete(sha256));
      this.#filling.set(sha256, filling);
    }
    return filling;
  }

  /** Moves a checked file (an upload just staged) into the cache. */
  async adopt(sha256: string, checkedFile: string): Promise<void> {
    const final = this.pathOf(sha256);
    const { size } = await stat(checkedFile);
    await mkdir(path.dirname(final), { recursive: true });
    await rename(checkedFile, final);
    if (!this.#entries.has(sha256)) this.#add(sha256, size);
    await this.#evict(sha256);
  }

  async remove(sha256: string): Promise<void> {
    const size = this.#entries.get(sha256);
    if (size === undefined) return;
    this.#entries.delete(sha256);
    this.#bytes -= size;
    await unlink(this.pathOf(sha256)).catch(() => undefined);
  }

  async #fill(sha256: string, fetch: (tempPath: string) => Promise<void>): Promise<string> {
    const temp = this.newTempPath();
    try {
      await fetch(temp);
      await this.adopt(sha256, temp);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    return this.pathOf(sha256);
  }

  #add(sha256: string, size: number): void {
    this.#entries.set(sha256, size);
    this.#bytes += size;
  }

  /** Evicts least recently used files until the cache fits, never `keep` (just added). */
  async #evict(keep: string | null): Promise<void> {
    for (const [sha256, size] of this.#entries) {
      if (this.#bytes <= this.maxBytes) return;
      if (sha256 === keep) continue;
      await this.remove(sha256);
      this.log.info({ sha256, size, cacheBytes: this.#bytes }, 'package evicted from local cache');
      this.onEvicted(sha256);
    }
    if (this.#bytes > this.maxBytes) {
      this.log.warn(
        { cacheBytes: this.#bytes, maxBytes: this.maxBytes },
        'package larger than the local cache',
      );
    }
  }
}
