import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';

import { etagFor } from './conditional-request.js';

/** What the server knows of a stored package: its bytes are in a local, immutable file. */
export interface ResolvedPackage {
  /** SHA-256 of the bytes, hex. */
  readonly sha256: string;
  /** Bytes. */
  readonly size: number;
  /** Local file holding exactly these bytes (content-addressed, never rewritten in place). */
  readonly filePath: string;
}

export interface PackageCacheOptions {
  resolve(packageId: number): Promise<ResolvedPackage | undefined>;
  /** Packages remembered at most (default 4096). */
  readonly maxEntries?: number;
  /** Bytes of package bodies kept in memory at most (default 64 MiB; 0 turns memory off). */
  readonly memoryBytes?: number;
  /** Largest package kept in memory, bytes (default 4 MiB). */
  readonly memoryFileBytes?: number;
}

/** A package ready to serve; headers are built once and shared by every response. */
export interface CachedPackage extends ResolvedPackage {
  readonly id: number;
  readonly etag: string;
  /** Headers of a 200 (and of HEAD): exact length, strong ETag, no transformation. */
  readonly fullHeaders: Readonly<Record<string, string>>;
  /** The same headers as HTTP/1.1 text lines, for the lean transport. */
  readonly fullHeadText: string;
  /** fullHeadText without Content-Length, for a 206 that adds its own. */
  readonly partHeadText: string;
  /** Whole-200 heads (and small whole responses) of the current second (response-head.ts). */
  readonly encodedHeads: { second: number; readonly byVariant: Array<Buffer | undefined> };
  /** The whole body, when small and hot; otherwise it streams from `filePath`. */
  body: Buffer | undefined;
  /** Downloads of this package in flight (the per-package cap). */
  inFlight: number;
  lastUsed: number;
}

/** The stored file does not hold the bytes the database describes: a server fault. */
export class ArtifactMismatchError extends Error {
  override name = 'ArtifactMismatchError';
}

/**
 * Resolved packages by id. Packages are immutable, so an entry stays valid until the
 * package is deleted (`invalidate`). Small files are read whole, checked against their
 * SHA-256 and kept within a memory budget, least recently used evicted first.
 */
export class PackageCache {
  readonly #entries = new Map<number, CachedPackage>();
  readonly #pending = new Map<number, Promise<CachedPackage | undefined>>();
  readonly #resolve: PackageCacheOptions['resolve'];
  readonly #maxEntries: number;
  readonly #memoryBytes: number;
  readonly #memoryFileBytes: number;
  readonly #reloading = new Set<number>();
  #memoryUsed = 0;
  #clock = 0;
  /** Bumped by every invalidation: a lookup that overlapped one must not be cached. */
  #epoch = 0;

  constructor(options: PackageCacheOptions) {
    this.#resolve = options.resolve;
    this.#maxEntries = options.maxEntries ?? 4096;
    this.#memoryBytes = options.memoryBytes ?? 64 * 1024 * 1024;
    this.#memoryFileBytes = Math.min(options.memoryFileBytes ?? 4 * 1024 * 1024, this.#memoryBytes);
  }

  /** The cached entry, marked as just used; undefined when it must be loaded first. */
  get(packageId: number): CachedPackage | undefined {
    const entry = this.#entries.get(packageId);
    if (entry === undefined) return undefined;
    entry.lastUsed = ++this.#clock;
    if (entry.body === undefined && this.#fitsWithoutEviction(entry.size)) this.#reload(entry);
    return entry;
  }

  /** Resolves and caches a package; concurrent callers share one lookup. */
  load(packageId: number): Promise<CachedPackage | undefined> {
    let pending = this.#pending.get(packageId);
    if (pending === undefined) {
      pending = this.#load(packageId).finally(() => this.#pending.delete(packageId));
      this.#pending.set(packageId, pending);
    }
    return pending;
  }

  /** Forgets a package (deleted, or its file replaced): the next request resolves it anew. */
  invalidate(packageId: number): void {
    this.#epoch++;
    this.#pending.delete(packageId);
    const entry = this.#entries.get(packageId);
    if (entry !== undefined) this.#forget(entry);
  }

  /** Bytes of package bodies held in memory. */
  get memoryUsed(): number {
    return this.#memoryUsed;
  }

  async #load(packageId: number): Promise<CachedPackage | undefined> {
    const epoch = this.#epoch;
    const resolved = await this.#resolve(packageId);
    if (resolved === undefined) return undefined;

    const { sha256, size, filePath } = resolved;
    const info = await stat(filePath);
    if (!info.isFile() || info.size !== size) {
      throw new ArtifactMismatchError(
        `package ${packageId}: ${filePath} holds ${info.size} bytes, expected ${size}`,
      );
    }
    const body = size <= this.#memoryFileBytes ? await readChecked(packageId, resolved) : undefined;

    const etag = etagFor(sha256);
    const fullHeaders = {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(size),
      ETag: etag,
      'Accept-Ranges': 'bytes',
      // no-transform: a proxy in front must not compress either (RFC 9111 §5.2.2.6).
      'Cache-Control': 'private, no-transform',
    };
    const lines = (omit?: string): string =>
      Object.entries(fullHeaders)
        .filter(([name]) => name !== omit)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('');
    const entry: CachedPackage = {
      id: packageId,
      sha256,
      size,
      filePath,
      etag,
      fullHeaders,
      fullHeadText: lines(),
      partHeadText: lines('Content-Length'),
      encodedHeads: { second: 0, byVariant: new Array<Buffer | undefined>(6).fill(undefined) },
      body: undefined,
      inFlight: 0,
      lastUsed: ++this.#clock,
    };
    // Served once, not remembered: the package was deleted while we looked it up.
    if (epoch !== this.#epoch) return { ...entry, body };

    if (body !== undefined) this.#keepBody(entry, body);
    this.#invalidateOldest();
    this.#entries.set(packageId, entry);
    return entry;
  }

  #fitsWithoutEviction(size: number): boolean {
    return size <= this.#memoryFileBytes && this.#memoryUsed + size <= this.#memoryBytes;
  }

  /** A body evicted for room comes back once room is free again, without evicting others. */
  #reload(entry: CachedPackage): void {
    if (this.#reloading.has(entry.id)) return;
    this.#reloading.add(entry.id);
    readChecked(entry.id, entry)
      .then((body) => {
        const current = this.#entries.get(entry.id) === entry;
        if (current && entry.body === undefined && this.#fitsWithoutEviction(entry.size)) {
          entry.body = body;
          this.#memoryUsed += body.length;
        }
      })
      // The file stays servable from disk; a real fault shows on the next full resolve.
      .catch(() => this.invalidate(entry.id))
      .finally(() => this.#reloading.delete(entry.id));
  }

  #keepBody(entry: CachedPackage, body: Buffer): void {
    while (this.#memoryUsed + body.length > this.#memoryBytes) {
      let coldest: CachedPackage | undefined;
      for (const other of this.#entries.values()) {
        if (other.body && (coldest === undefined || other.lastUsed < coldest.lastUsed)) {
          coldest = other;
        }
      }
      if (coldest === undefined) return;
      this.#dropBody(coldest);
    }
    entry.body = body;
    this.#memoryUsed += body.length;
  }

  #forget(entry: CachedPackage): void {
    this.#entries.delete(entry.id);
    this.#dropBody(entry);
  }

  #dropBody(entry: CachedPackage): void {
    if (entry.body === undefined) return;
    this.#memoryUsed -= entry.body.length;
    entry.body = undefined;
  }

  #invalidateOldest(): void {
    if (this.#entries.size < this.#maxEntries) return;
    let oldest: CachedPackage | undefined;
    for (const entry of this.#entries.values()) {
      if (oldest === undefined || entry.lastUsed < oldest.lastUsed) oldest = entry;
    }
    if (oldest !== undefined) this.#forget(oldest);
  }
}

/** Reads a small artifact whole and proves it is the one recorded, before anyone gets it. */
async function readChecked(packageId: number, pkg: ResolvedPackage): Promise<Buffer> {
  const body = await readFile(pkg.filePath);
  const digest = createHash('sha256').update(body).digest('hex');
  if (body.length !== pkg.size || digest !== pkg.sha256.toLowerCase()) {
    throw new ArtifactMismatchError(
      `package ${packageId}: ${pkg.filePath} does not hash to the recorded SHA-256`,
    );
  }
  return body;
}
