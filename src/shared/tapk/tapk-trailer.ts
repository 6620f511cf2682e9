import { crc16CcittFalse } from './crc16.js';

/**
 * The last 256 bytes of a TiJOS `.tapk` package (format read off the public sample; see
 * docs/protocol.md, ".tapk"): magic, NUL-padded name and description, build time, CRC-16.
 */
export const TAPK_TRAILER_SIZE = 256;
export const TAPK_MAGIC = 'TAPKV3.0';

const MAGIC_OFFSET = 0;
const NAME_OFFSET = 8;
const NAME_SIZE = 32;
const DESCRIPTION_OFFSET = 40;
const BUILD_TIME_OFFSET = 154;
const CRC_OFFSET = 254;

export interface TapkInfo {
  readonly name: string;
  readonly description: string;
  /** Build time as Unix seconds, as stored in the trailer. */
  readonly buildTime: number;
  /** The stored CRC-16/CCITT-FALSE over every byte before it. */
  readonly crc: number;
}

/** Why a `.tapk` was refused; stable codes, shown to operators. */
export type TapkProblem = 'too_short' | 'bad_magic' | 'empty_name' | 'bad_text' | 'crc_mismatch';

export class TapkError extends Error {
  constructor(
    readonly problem: TapkProblem,
    message: string,
  ) {
    super(message);
    this.name = 'TapkError';
  }
}

/**
 * Reads the fields of a trailer without checking the CRC (the caller computes it over the
 * stream). Throws TapkError naming what is wrong.
 */
export function parseTapkTrailer(trailer: Uint8Array): Omit<TapkInfo, 'crc'> & { crc: number } {
  if (trailer.length !== TAPK_TRAILER_SIZE) {
    throw new TapkError('too_short', `a .tapk is at least ${TAPK_TRAILER_SIZE} bytes long`);
  }
  const buf = Buffer.from(trailer.buffer, trailer.byteOffset, trailer.byteLength);
  const magic = buf.toString('latin1', MAGIC_OFFSET, MAGIC_OFFSET + TAPK_MAGIC.length);
  if (magic !== TAPK_MAGIC) {
    throw new TapkError(
      'bad_magic',
      `not a .tapk: the trailer magic is ${JSON.stringify(magic)}, expected "${TAPK_MAGIC}"`,
    );
  }
  const name = readPaddedText(buf, NAME_OFFSET, NAME_SIZE, 'app name');
  if (name.length === 0) throw new TapkError('empty_name', 'the .tapk trailer has no app name');
  const description = readPaddedText(
    buf,
    DESCRIPTION_OFFSET,
    BUILD_TIME_OFFSET - DESCRIPTION_OFFSET,
    'description',
  );
  return {
    name,
    description,
    buildTime: buf.readUInt32LE(BUILD_TIME_OFFSET),
    crc: buf.readUInt16LE(CRC_OFFSET),
  };
}

/** Checks a whole package held in memory (small files, tests, the agent). */
export function parseTapk(file: Uint8Array): TapkInfo {
  if (file.length < TAPK_TRAILER_SIZE) {
    throw new TapkError(
      'too_short',
      `a .tapk is at least ${TAPK_TRAILER_SIZE} bytes long; this file has ${file.length}`,
    );
  }
  const info = parseTapkTrailer(file.subarray(file.length - TAPK_TRAILER_SIZE));
  checkTapkCrc(info.crc, crc16CcittFalse(file.subarray(0, file.length - 2)));
  return info;
}

export function checkTapkCrc(stored: number, computed: number): void {
  if (stored !== computed) {
    throw new TapkError(
      'crc_mismatch',
      `the .tapk is corrupt: its CRC-16 is 0x${hex4(stored)} but the bytes give 0x${hex4(computed)}`,
    );
  }
}

function readPaddedText(buf: Buffer, offset: number, size: number, what: string): string {
  const field = buf.subarray(offset, offset + size);
  const end = field.indexOf(0);
  const text = field.subarray(0, end === -1 ? field.length : end);
  // Printable text only: a control byte here means the file is not what it claims to be.
  for (const byte of text) {
    if (byte < 0x20 || byte === 0x7f) {
      throw new TapkError(
        'bad_text',
        `the .tapk ${what} holds a control byte (0x${byte.toString(16)})`,
      );
    }
  }
  return text.toString('utf8');
}

function hex4(value: number): string {
  return value.toString(16).padStart(4, '0');
}
