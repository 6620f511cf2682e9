import path from 'node:path';
import { ConfigError } from '../config.js';
import type { BlobStore } from './blob-store.js';
import { FsBlobStore } from './fs-blob-store.js';

/** `file:<folder>` (default) or, once object storage lands, `s3://bucket/prefix`. */
export async function openBlobStore(url: string, dataDir: string): Promise<BlobStore> {
  if (url.startsWith('file:')) return FsBlobStore.open(path.resolve(url.slice('file:'.length)));
  if (!url.includes(':')) return FsBlobStore.open(path.resolve(url));
  throw new ConfigError(`--storage-url "${url}" is not supported: use file:<folder>${dataDir ? '' : ''}`);
}
