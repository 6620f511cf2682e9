import path from 'node:path';
import { ConfigError } from '../config.js';
import type { Logger } from '../log.js';
import { BlobCache } from './blob-cache.js';
import type { BlobStore } from './blob-store.js';
import { FsBlobStore } from './fs-blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';
import { parseS3Url } from './s3-location.js';

export interface BlobStoreOptions {
  /** Bytes of object-storage packages kept in `<dataDir>/cache` (S3 only). */
  readonly cacheBytes: number;
  readonly log: Logger;
}

/**
 * `file:<folder>` (the default, under the data folder) or `s3://bucket/prefix?…`
 * (s3-location.ts), served through a local cache in `<dataDir>/cache`.
 */
export async function openBlobStore(
  url: string,
  dataDir: string,
  options: BlobStoreOptions,
): Promise<BlobStore> {
  if (url.startsWith('file:')) return FsBlobStore.open(path.resolve(url.slice('file:'.length)));
  if (url.startsWith('s3:')) {
    const log = options.log.child({ component: 'blob-cache' });
    const cache = await BlobCache.open(path.join(dataDir, 'cache'), options.cacheBytes, log);
    const store = new S3BlobStore(parseS3Url(url), cache);
    cache.onEvicted = (sha256) => store.onEvicted?.(sha256);
    return store;
  }
  if (!url.includes(':')) return FsBlobStore.open(path.resolve(url));
  throw new ConfigError(
    `--storage-url "${url}" is not supported: use file:<folder> or s3://bucket/prefix`,
  );
}
