/**
 * The download path, `GET|HEAD /d/<token>`: what the rest of the server uses. See
 * download-handler.ts for wiring, download-refusals.ts for the stable refusal codes.
 */
export {
  createDownloadHandler,
  type DownloadDeps,
  type DownloadHandler,
  type DownloadLimits,
  type DownloadLog,
  type DownloadProgress,
} from './download-handler.js';
export { DOWNLOAD_REFUSALS, type DownloadRefusal } from './download-refusals.js';
export type { FrontServer, FrontServerOptions } from './front-server.js';
export type { PackageCacheOptions, ResolvedPackage } from './package-cache.js';
