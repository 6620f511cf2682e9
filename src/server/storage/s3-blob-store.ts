import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import type { BlobCache } from './blob-cache.js';
import type { BlobStore, StagedBlob, StageOptions } from './blob-store.js';
import { writeHashed } from './hashing-writer.js';
import type { S3Location } from './s3-location.js';

/** Parts of a multipart upload: S3 wants 5 MiB or more (but the last), and 10,000 at most. */
const PART_BYTES = 8 * 1024 * 1024;
const MAX_PARTS = 10_000;

/**
 * Packages in S3-compatible object storage, named `<prefix>sha256/<hash>`, served from this
 * replica's local cache (blob-cache.ts). An upload is staged to a local file while its digests
 * are computed, then streamed to the bucket from that file (one part in memory at a time) and
 * the file becomes the first cached copy. Another replica fetches the object on the first
 * download it serves, checks the SHA-256 and keeps it.
 */
export class S3BlobStore implements BlobStore {
  readonly #client: S3Client;
  onEvicted?: (sha256: string) => void;

  constructor(
    private readonly location: S3Location,
    private readonly cache: BlobCache,
  ) {
    this.#client = new S3Client(location.client);
  }

  async stage(source: Readable, options: StageOptions): Promise<StagedBlob> {
    const temp = this.cache.newTempPath();
    const digests = await writeHashed(source, temp, options);
    return {
      ...digests,
      commit: async () => {
        // Same bytes already stored (content-addressed): no second upload.
        if (!(await this.has(digests.sha256)))
          await this.#upload(temp, digests.sha256, digests.size);
        await this.cache.adopt(digests.sha256, temp);
      },
      discard: () => unlink(temp).catch(() => undefined),
    };
  }

  localPath(sha256: string): Promise<string> {
    return this.cache.get(sha256, (temp) => this.#download(sha256, temp));
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await this.#client.send(
        new HeadObjectCommand({ Bucket: this.location.bucket, Key: this.#key(sha256) }),
      );
      return true;
    } catch (error) {
      if (
        (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
      ) {
        return false;
      }
      throw error;
    }
  }

  async delete(sha256: string): Promise<void> {
    await this.#client.send(
      new DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.#key(sha256) }),
    );
    await this.cache.remove(sha256);
  }

  close(): void {
    this.#client.destroy();
  }

  #key(sha256: string): string {
    this.cache.pathOf(sha256); // refuses anything but a SHA-256 digest
    return `${this.location.prefix}sha256/${sha256}`;
  }

  async #download(sha256: string, temp: string): Promise<void> {
    const object = await this.#client.send(
      new GetObjectCommand({ Bucket: this.location.bucket, Key: this.#key(sha256) }),
    );
    const digests = await writeHashed(object.Body as Readable, temp, {
      maxBytes: Number.MAX_SAFE_INTEGER,
    });
    if (digests.sha256 !== sha256) {
      throw new Error(
        `object storage returned ${digests.size} bytes for ${this.#key(sha256)} that hash to ` +
          `${digests.sha256}: the object is corrupt or was replaced`,
      );
    }
  }

  async #upload(file: string, sha256: string, size: number): Promise<void> {
    const Bucket = this.location.bucket;
    const Key = this.#key(sha256);
    if (size <= PART_BYTES) {
      await this.#client.send(
        new PutObjectCommand({ Bucket, Key, Body: createReadStream(file), ContentLength: size }),
      );
      return;
    }

    const partBytes = Math.max(PART_BYTES, Math.ceil(size / MAX_PARTS));
    const { UploadId } = await this.#client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    try {
      const parts: CompletedPart[] = [];
      for (let start = 0, n = 1; start < size; start += partBytes, n++) {
        const end = Math.min(start + partBytes, size) - 1;
        const part = await this.#client.send(
          new UploadPartCommand({
            Bucket,
            Key,
            UploadId,
            PartNumber: n,
            Body: createReadStream(file, { start, end }),
            ContentLength: end - start + 1,
          }),
        );
        parts.push({ ETag: part.ETag, PartNumber: n });
      }
      await this.#client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (error) {
      // Parts of an unfinished upload cost storage until aborted.
      await this.#client
        .send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }))
        .catch(() => undefined);
      throw error;
    }
  }
}
