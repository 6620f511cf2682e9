import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
// s3rver ships no types; only its constructor, run() and close() are used here.
import S3rver from 's3rver';

/** s3rver's fixed credentials: the S3 API signs requests, so the SDK needs some. */
export const S3_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

// The SDK's notice that its 2027 releases need Node 22 (docs/deploy.md) fills test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export interface S3Server {
  readonly endpoint: string;
  readonly bucket: string;
  /** A `--storage-url` for this server: `s3://<bucket>/<prefix>?endpoint=…`. */
  storageUrl(prefix: string): string;
  /** An SDK client on the same bucket, to look behind Tiota's back. */
  readonly client: S3Client;
  stop(): Promise<void>;
}

/**
 * A local S3-protocol server (s3rver) on a free port, with one bucket, storing under a temporary
 * folder. It speaks the S3 REST API with signature checks, as object stores in production do.
 */
export async function startS3Server(bucket = 'tiota-packages'): Promise<S3Server> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'tiota-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    bucket,
    client,
    storageUrl: (prefix) =>
      `s3://${bucket}/${prefix}?endpoint=${endpoint}&region=us-east-1&forcePathStyle=true`,
    stop: async () => {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
