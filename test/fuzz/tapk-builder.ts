import { crc16CcittFalse, TAPK_MAGIC, TAPK_TRAILER_SIZE } from '../../src/shared/tapk/index.js';

/** Builds a `.tapk` with a correct trailer and CRC (layout: src/shared/tapk/tapk-trailer.ts). */
export function buildTapk(parts: {
  body: Uint8Array;
  name: string;
  description: string;
  buildTime: number;
  reserved: Uint8Array;
}): Buffer {
  const trailer = Buffer.alloc(TAPK_TRAILER_SIZE);
  trailer.write(TAPK_MAGIC, 0, 'latin1');
  trailer.write(parts.name, 8, 32, 'latin1');
  trailer.write(parts.description, 40, 114, 'latin1');
  trailer.writeUInt32LE(parts.buildTime, 154);
  Buffer.from(parts.reserved).copy(trailer, 158, 0, 96);
  const file = Buffer.concat([Buffer.from(parts.body), trailer]);
  file.writeUInt16LE(crc16CcittFalse(file.subarray(0, file.length - 2)), file.length - 2);
  return file;
}
