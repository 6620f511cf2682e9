import { CRC16_INIT, crc16CcittFalse } from './crc16.js';
import {
  TAPK_TRAILER_SIZE,
  TapkError,
  checkTapkCrc,
  parseTapkTrailer,
  type TapkInfo,
} from './tapk-trailer.js';

/**
 * Checks a `.tapk` while it streams by: feed every chunk in order, then call finish().
 * Holds at most the last 256 bytes, so a package is never kept whole in memory.
 */
export class TapkStreamChecker {
  #crc = CRC16_INIT;
  #tail: Buffer = Buffer.alloc(0);

  update(chunk: Uint8Array): void {
    const joined = Buffer.concat([this.#tail, chunk]);
    // Bytes older than the last two are certainly not the stored CRC: fold them in now.
    const settled = joined.length - TAPK_TRAILER_SIZE;
    if (settled > 0) {
      this.#crc = crc16CcittFalse(joined.subarray(0, settled), this.#crc);
      this.#tail = Buffer.from(joined.subarray(settled));
    } else {
      this.#tail = joined;
    }
  }

  finish(): TapkInfo {
    if (this.#tail.length < TAPK_TRAILER_SIZE) {
      throw new TapkError('too_short', `a .tapk is at least ${TAPK_TRAILER_SIZE} bytes long`);
    }
    const info = parseTapkTrailer(this.#tail);
    const computed = crc16CcittFalse(this.#tail.subarray(0, TAPK_TRAILER_SIZE - 2), this.#crc);
    checkTapkCrc(info.crc, computed);
    return info;
  }
}
