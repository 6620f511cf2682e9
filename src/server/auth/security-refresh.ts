import type { DeviceService } from '../domain/device-service.js';
import type { ManifestSigner } from '../keys/manifest-signer.js';
import type { UrlKeyring } from '../keys/url-keyring.js';
import type { Logger } from '../log.js';

/** How often a replica re-reads shared security state, milliseconds (30 s). */
export const SECURITY_REFRESH_MS = 30_000;

/**
 * Keeps what each replica caches in memory in step with the database, for changes another
 * replica made: URL keys (so a URL signed with a new key verifies here too), the manifest key
 * (so uploads here are signed with the rotated key) and revoked devices (no downloads, no
 * logins). URL_KEY_ACTIVATION_MS must stay longer than this interval. Returns the stopper.
 */
export function startSecurityRefresh(
  parts: { urlKeys: UrlKeyring; manifestKeys: ManifestSigner; devices: DeviceService },
  log: Logger,
  intervalMs = SECURITY_REFRESH_MS,
): () => Promise<void> {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = Promise.all([
      parts.urlKeys.refresh(),
      parts.manifestKeys.refresh(),
      parts.devices.loadRevoked(),
    ])
      .then(() => undefined)
      .catch((error: unknown) => log.warn({ err: error }, 'security state refresh failed'))
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
