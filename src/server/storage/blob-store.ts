import type { Readable } from 'node:stream';

/** Digests of an upload, computed while it streams. Hex strings. */
export interface BlobDigests {
  readonly sha256: string;
  readonly sha1: string;
  readonly md5: string;
  readonly size: number;
}

/** Bytes written to the store but not yet visible: commit() publishes, discard() forgets. */
export interface StagedBlob extends BlobDigests {
  commit(): Promise<void>;
  discard(): Promise<void>;
}

export interface StageOptions {
  /** Refuse (TiotaError payload_too_large) once more than this many bytes arrive. */
  readonly maxBytes: number;
  /** Sees every chunk in order (the .tapk checker). */
  readonly observe?: (chunk: Buffer) => void;
}

/**
 * Content-addressed package storage. Packages are named by SHA-256 only: the uploader's file
 * name never becomes a path. `localPath` always gives a file on this machine (S3 stores fill a
 * local cache), because downloads stream from disk.
 */
export interface BlobStore {
  stage(source: Readable, options: StageOptions): Promise<StagedBlob>;
  localPath(sha256: string): Promise<string>;
  has(sha256: string): Promise<boolean>;
  delete(sha256: string): Promise<void>;
  /**
   * Set by whoever holds paths from `localPath`: called when a cached copy was evicted, so the
   * next `localPath` call fetches it again. Stores whose files never go away never call it.
   */
  onEvicted?: (sha256: string) => void;
  close?(): void;
}
