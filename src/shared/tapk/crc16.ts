/**
 * CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, xorout 0.
 * The check value of "123456789" is 0x29B1 (CRC catalogue).
 * Incremental so uploads can be checked while they stream: pass the previous result as `crc`.
 */
const TABLE = buildTable();

function buildTable(): Uint16Array {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    table[byte] = crc;
  }
  return table;
}

export const CRC16_INIT = 0xffff;

export function crc16CcittFalse(data: Uint8Array, crc: number = CRC16_INIT): number {
  let value = crc;
  for (let i = 0; i < data.length; i++) {
    value = ((value << 8) & 0xffff) ^ TABLE[((value >> 8) ^ data[i]) & 0xff];
  }
  return value;
}
