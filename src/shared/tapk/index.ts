export * from './crc16.js';
export * from './tapk-trailer.js';
export * from './tapk-checker.js';
