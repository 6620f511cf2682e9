import { createHash } from 'node:crypto';

/**
 * HMAC-SHA256 (RFC 2104, FIPS 180-4) for short messages with the key's pad blocks hashed once.
 *
 * Why not node:crypto: every download checks a token, and createHmac costs about 4 µs per
 * call in object set-up, several times the whole rest of the download path. With the inner
 * and outer pad states precomputed, a 22-byte token needs two compressions, well under 1 µs.
 * SHA-256 uses no data-dependent branches or table lookups, so this runs in time independent
 * of the secret and the message. test/download/hmac-sha256.test.ts checks it against
 * node:crypto on random keys and messages.
 */

// prettier-ignore
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
// prettier-ignore
const IV = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

const BLOCK = 64;
const W = new Int32Array(64);
const scratch = new Uint8Array(BLOCK);

/** One SHA-256 compression of `block[at..at+64]` into `state`. */
function compress(state: Int32Array, block: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++, at += 4) {
    W[i] = (block[at] << 24) | (block[at + 1] << 16) | (block[at + 2] << 8) | block[at + 3];
  }
  compressLoaded(state);
}

/** One SHA-256 compression of the block already in W[0..15] into `state`. */
function compressLoaded(state: Int32Array): void {
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15];
    const w2 = W[i - 2];
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }

  let a = state[0];
  let b = state[1];
  let c = state[2];
  let d = state[3];
  let e = state[4];
  let f = state[5];
  let g = state[6];
  let h = state[7];
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0] + a) | 0;
  state[1] = (state[1] + b) | 0;
  state[2] = (state[2] + c) | 0;
  state[3] = (state[3] + d) | 0;
  state[4] = (state[4] + e) | 0;
  state[5] = (state[5] + f) | 0;
  state[6] = (state[6] + g) | 0;
  state[7] = (state[7] + h) | 0;
}

/**
 * Hashes the first `length` bytes of `msg` onto `state`, which already holds `prefixBytes`
 * (whole blocks) of input, and pads.
 */
function finish(state: Int32Array, msg: Uint8Array, length: number, prefixBytes: number): void {
  let at = 0;
  for (; at + BLOCK <= length; at += BLOCK) compress(state, msg, at);

  const rest = length - at;
  scratch.fill(0);
  for (let i = 0; i < rest; i++) scratch[i] = msg[at + i];
  scratch[rest] = 0x80;
  if (rest >= BLOCK - 8) {
    compress(state, scratch, 0);
    scratch.fill(0);
  }
  // Message length in bits, big-endian; messages here are far below 2^32 bits.
  const bits = (prefixBytes + length) * 8;
  scratch[60] = bits >>> 24;
  scratch[61] = bits >>> 16;
  scratch[62] = bits >>> 8;
  scratch[63] = bits;
  scratch[59] = Math.floor(bits / 2 ** 32);
  compress(state, scratch, 0);
}

export class HmacSha256 {
  readonly #inner = new Int32Array(8);
  readonly #outer = new Int32Array(8);
  readonly #state = new Int32Array(8);
  readonly #digest = new Uint8Array(32);

  constructor(secret: Uint8Array) {
    const key = new Uint8Array(BLOCK);
    key.set(secret.length > BLOCK ? createHash('sha256').update(secret).digest() : secret);
    const pad = new Uint8Array(BLOCK);
    this.#inner.set(IV);
    for (let i = 0; i < BLOCK; i++) pad[i] = key[i] ^ 0x36;
    compress(this.#inner, pad, 0);
    this.#outer.set(IV);
    for (let i = 0; i < BLOCK; i++) pad[i] = key[i] ^ 0x5c;
    compress(this.#outer, pad, 0);
  }

  /**
   * The MAC of `msg`, or of its first `length` bytes. The returned array is reused by the
   * next call: copy it to keep it.
   */
  mac(msg: Uint8Array, length = msg.length): Uint8Array {
    const state = this.#state;
    state.set(this.#inner);
    if (length <= BLOCK - 9) {
      // One block: the message, 0x80, zeros, the bit length; loaded as words directly.
      W.fill(0, 0, 16);
      for (let k = 0; k < length; k++) W[k >> 2] |= msg[k] << (24 - 8 * (k & 3));
      W[length >> 2] |= 0x80 << (24 - 8 * (length & 3));
      W[15] = (BLOCK + length) * 8;
      compressLoaded(state);
    } else {
      finish(state, msg, length, BLOCK);
    }

    // The outer message is the 32-byte inner digest: state words, then padding.
    for (let i = 0; i < 8; i++) W[i] = state[i];
    W[8] = 0x80000000 | 0;
    W.fill(0, 9, 15);
    W[15] = (BLOCK + 32) * 8;
    state.set(this.#outer);
    compressLoaded(state);

    const digest = this.#digest;
    for (let i = 0; i < 8; i++) {
      digest[i * 4] = state[i] >>> 24;
      digest[i * 4 + 1] = state[i] >>> 16;
      digest[i * 4 + 2] = state[i] >>> 8;
      digest[i * 4 + 3] = state[i];
    }
    return digest;
  }
}
