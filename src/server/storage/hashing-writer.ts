import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TiotaError } from '../errors.js';
import type { BlobDigests, StageOptions } from './blob-store.js';

/**
 * Streams `source` into `file` while computing SHA-256, SHA-1 and MD5 and enforcing the size
 * limit. Nothing is held in memory beyond the stream's own buffers. On any failure the
 * partial file is removed before the error is rethrown.
 */
export async function writeHashed(
  source: Readable,
  file: string,
  options: StageOptions,
): Promise<BlobDigests> {
  const sha256 = createHash('sha256');
  const sha1 = createHash('sha1');
  const md5 = createHash('md5');
  let size = 0;

  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > options.maxBytes) {
        done(new TiotaError('payload_too_large', String(options.maxBytes)));
        return;
      }
      sha256.update(chunk);
      sha1.update(chunk);
      md5.update(chunk);
      try {
        options.observe?.(chunk);
      } catch (error) {
        done(error as Error);
        return;
      }
      done(null, chunk);
    },
  });

  try {
    await pipeline(source, meter, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
  } catch (error) {
    await unlink(file).catch(() => undefined);
    throw error;
  }
  return { sha256: sha256.digest('hex'), sha1: sha1.digest('hex'), md5: md5.digest('hex'), size };
}
