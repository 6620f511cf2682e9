import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { ServerConfig } from './config.js';
import type { DeviceReportHandler } from './domain/device-report-handler.js';
import type { DeviceService } from './domain/device-service.js';
import type { PackageService } from './domain/package-service.js';
import { createDownloadHandler, type DownloadHandler } from './download/download-handler.js';
import type { RawHandler } from './http/build-http-app.js';
import type { UrlKeyring } from './keys/url-keyring.js';
import type { Logger } from './log.js';
import type { BlobStore } from './storage/blob-store.js';
import type { Database } from './store/schema.js';

/** Seconds a request may arrive before its URL's not-before (clock skew between replicas). */
export const DOWNLOAD_SKEW_SECONDS = 30;

/** Connects the download handler (src/server/download) to storage, devices and rollouts. */
export function mountDownloads(deps: {
  db: Kysely<Database>;
  blobs: BlobStore;
  keyring: UrlKeyring;
  devices: DeviceService;
  packages: PackageService;
  reports: DeviceReportHandler;
  metrics: Registry;
  config: ServerConfig;
  log: Logger;
}): { handler: RawHandler; download: DownloadHandler } {
  const log = deps.log.child({ component: 'download' });
  const download = createDownloadHandler({
    keyring: deps.keyring,
    nowMs: Date.now,
    skewSeconds: DOWNLOAD_SKEW_SECONDS,
    resolvePackage: async (packageId: number) => {
      const row = await deps.db
        .selectFrom('packages')
        .select(['sha256', 'size'])
        .where('id', '=', packageId)
        .executeTakeFirst();
      if (!row) return undefined;
      return {
        sha256: row.sha256,
        size: Number(row.size),
        filePath: await deps.blobs.localPath(row.sha256),
      };
    },
    isDeviceRevoked: (deviceRowId: number) => deps.devices.isRevoked(deviceRowId),
    onProgress: (event) => {
      deps.reports
        .downloadProgress(event.grant.actionId, event.bytes, event.complete)
        .catch((error: unknown) => log.warn({ err: error }, 'download accounting failed'));
    },
    limits: {
      maxInFlight: deps.config.maxDownloads,
      maxInFlightPerPackage: deps.config.maxDownloadsPerPackage,
      retryAfterSeconds: 5,
    },
    registry: deps.metrics,
    log,
  });
  deps.packages.onDeleted = (id) => download.invalidatePackage(id);
  return { handler: download.handle, download };
}
