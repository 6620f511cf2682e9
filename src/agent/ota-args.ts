/**
 * The OTA app's single argument string, exactly as TiJOS passes it: `"<oldAppId> <url>"`,
 * space separated (so the URL holds no space). `-1` means: keep the old app (TIJOS.md).
 */
export interface OtaArgs {
  readonly oldAppId: number;
  readonly url: string;
}

/** TiJOS limit on the argument string (DESIGN: URL contract, "< 128 characters"). */
export const MAX_OTA_ARGS_LENGTH = 127;

export class OtaArgsError extends Error {
  override name = 'OtaArgsError';
}

export function formatOtaArgs(args: OtaArgs): string {
  const text = `${args.oldAppId} ${args.url}`;
  parseOtaArgs(text);
  return text;
}

export function parseOtaArgs(text: string): OtaArgs {
  if (text.length > MAX_OTA_ARGS_LENGTH) {
    throw new OtaArgsError(`the OTA arguments are ${text.length} characters; at most 127`);
  }
  const parts = text.split(' ');
  if (parts.length !== 2) {
    throw new OtaArgsError('the OTA arguments must be "<oldAppId> <url>", two words');
  }
  const [idText, url] = parts;
  if (!/^(-1|\d{1,4})$/.test(idText)) {
    throw new OtaArgsError(`the old app id must be -1 or a whole number, got "${idText}"`);
  }
  if (!/^https?:\/\/[^\s]+$/.test(url)) {
    throw new OtaArgsError(`the download URL must start with http:// or https://`);
  }
  return { oldAppId: Number(idText), url };
}
