import { createHash, verify } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { manifestText, type InstallCommand } from '../shared/protocol/index.js';
import { TapkError, TapkStreamChecker, type TapkInfo } from '../shared/tapk/index.js';
import { OtaFailure } from './ota-reasons.js';

/**
 * Checks the server's Ed25519 signature over the command's manifest with the key pinned at
 * registration. Done before any byte is downloaded: once the manifest is genuine, a matching
 * SHA-256 makes the bytes genuine too.
 */
export function signatureIsValid(cmd: InstallCommand, publicKeyPem: string): boolean {
  try {
    const text = manifestText({
      app: cmd.app,
      version: cmd.version,
      size: cmd.size,
      sha256: cmd.sha256,
    });
    return verify(null, Buffer.from(text), publicKeyPem, Buffer.from(cmd.sig, 'base64'));
  } catch {
    // A malformed key or signature is as bad as a wrong one.
    return false;
  }
}

/** What the verifier learned about a package that passed. */
export interface VerifiedPackage {
  readonly size: number;
  /** Present when the package is a `.tapk` (its trailer magic is there and its CRC holds). */
  readonly tapk: TapkInfo | null;
}

/**
 * Checks a downloaded file against its command: SHA-256 first (a short or empty body fails
 * here, as a hash failure), then the size, then the `.tapk` trailer CRC when the file has the
 * trailer magic — the check TiJOS itself makes when it activates an app.
 */
export async function verifyPackage(file: string, cmd: InstallCommand): Promise<VerifiedPackage> {
  const hash = createHash('sha256');
  const tapk = new TapkStreamChecker();
  let size = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    tapk.update(chunk);
    size += chunk.length;
  }
  const digest = hash.digest('hex');
  if (digest !== cmd.sha256) {
    throw new OtaFailure(
      'sha256_mismatch',
      `got ${size} of ${cmd.size} bytes with SHA-256 ${digest.slice(0, 16)}…, expected ${cmd.sha256.slice(0, 16)}…`,
      { bytes: size },
    );
  }
  if (size !== cmd.size) {
    throw new OtaFailure('size_mismatch', `got ${size} bytes, expected ${cmd.size}`, {
      bytes: size,
    });
  }
  return { size, tapk: checkTapk(tapk, size) };
}

function checkTapk(checker: TapkStreamChecker, size: number): TapkInfo | null {
  try {
    return checker.finish();
  } catch (error) {
    if (!(error instanceof TapkError)) throw error;
    // No trailer magic: an opaque firmware file, not a .tapk.
    if (error.problem === 'bad_magic' || error.problem === 'too_short') return null;
    throw new OtaFailure('tapk_invalid', error.message, { bytes: size });
  }
}
