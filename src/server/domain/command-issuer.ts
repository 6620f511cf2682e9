import {
  cmdTopic,
  type CancelCommand,
  type DeviceCommand,
  type InstallCommand,
} from '../../shared/protocol/index.js';
import { signDownloadToken } from '../../shared/token/download-token.js';
import type { UrlKeyring } from '../keys/url-keyring.js';
import type { MessageBus } from '../mqtt/message-bus.js';
import type { PackageView } from './package-service.js';

/** Longest `"<oldAppId> "` prefix a TiJOS user app puts before the URL (4-digit id + space). */
export const APP_ID_PREFIX_LENGTH = 5;
/** TiJOS limit on the OTA app's argument string (DESIGN: URL contract). */
export const MAX_ARGUMENT_LENGTH = 127;

export interface CommandTarget {
  readonly actionId: number;
  readonly attempt: number;
  readonly deviceId: string;
  readonly deviceRowId: number;
}

/** Command ids name the action and the attempt, so a stale attempt's reports are recognised. */
export function commandId(actionId: number, attempt: number): string {
  return `a${actionId}.${attempt}`;
}

export function parseCommandId(id: string): { actionId: number; attempt: number } | null {
  const match = /^a(\d{1,15})\.(\d{1,6})$/.exec(id);
  return match ? { actionId: Number(match[1]), attempt: Number(match[2]) } : null;
}

/** Builds signed download URLs and publishes commands to devices. */
export class CommandIssuer {
  constructor(
    private readonly bus: MessageBus,
    private readonly keyring: UrlKeyring,
    private readonly publicUrl: () => string,
    private readonly urlTtlSeconds: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  downloadUrl(
    packageId: number,
    deviceRowId: number,
    actionId: number,
  ): { url: string; exp: number } {
    const now = Math.floor(this.nowMs() / 1000);
    const exp = now + this.urlTtlSeconds;
    const keyId = this.keyring.currentKeyId;
    const token = signDownloadToken(
      { keyId, packageId, deviceRowId, actionId, notBefore: now, expiresAt: exp },
      this.keyring.secret(keyId)!,
    );
    return { url: `${this.publicUrl()}/d/${token}`, exp };
  }

  buildInstall(target: CommandTarget, pkg: PackageView): InstallCommand {
    const { url, exp } = this.downloadUrl(pkg.id, target.deviceRowId, target.actionId);
    return {
      v: 1,
      op: 'install',
      id: commandId(target.actionId, target.attempt),
      app: pkg.app,
      version: pkg.version,
      url,
      size: pkg.size,
      sha256: pkg.sha256,
      sig: pkg.signature,
      exp,
    };
  }

  async sendInstall(target: CommandTarget, pkg: PackageView): Promise<InstallCommand> {
    const command = this.buildInstall(target, pkg);
    await this.publish(target.deviceId, command);
    return command;
  }

  /** Publishes a command built earlier (the engine builds a batch, then sends it paced). */
  async publish(deviceId: string, command: DeviceCommand): Promise<void> {
    await this.bus.publish(cmdTopic(deviceId), JSON.stringify(command));
  }

  async sendCancel(target: CommandTarget): Promise<void> {
    const command: CancelCommand = {
      v: 1,
      op: 'cancel',
      id: commandId(target.actionId, target.attempt),
    };
    await this.publish(target.deviceId, command);
  }
}

/** Refuses a public URL too long for TiJOS devices' `"<oldAppId> <url>"` argument. */
export function checkPublicUrlLength(publicUrl: string, tokenLength: number): string | null {
  const length = APP_ID_PREFIX_LENGTH + publicUrl.length + '/d/'.length + tokenLength;
  if (length <= MAX_ARGUMENT_LENGTH) return null;
  return (
    `the public URL "${publicUrl}" makes download URLs too long for TiJOS devices: ` +
    `"<oldAppId> <url>" would be ${length} characters, the limit is ${MAX_ARGUMENT_LENGTH}. ` +
    `Use a shorter host name (at most ${publicUrl.length - (length - MAX_ARGUMENT_LENGTH)} characters ` +
    `for the public URL) with --public-url / TIOTA_PUBLIC_URL.`
  );
}
