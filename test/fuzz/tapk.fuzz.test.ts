import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  parseTapk,
  parseTapkTrailer,
  TapkError,
  TapkStreamChecker,
  TAPK_TRAILER_SIZE,
  type TapkProblem,
} from '../../src/shared/tapk/index.js';
import { buildTapk } from './tapk-builder.js';
import { check, FUZZ_TIMEOUT_MS, fuzz, timed } from './fuzz-runs.js';

const PROBLEMS: TapkProblem[] = [
  'too_short',
  'bad_magic',
  'empty_name',
  'bad_text',
  'crc_mismatch',
];

/** A refusal must be a TapkError with a known problem and a message for people. */
function expectClearRefusal(error: unknown): void {
  check(error instanceof TapkError, () => `not a TapkError: ${String(error)}`);
  check(PROBLEMS.includes(error.problem), `unknown problem ${error.problem}`);
  check(error.message.length > 10, 'no message');
}

const printable = (max: number) =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: max,
  });

const validTapk = fc.record({
  body: fc.uint8Array({ maxLength: 256 }),
  name: printable(32).filter((s) => s.length > 0),
  description: printable(114),
  buildTime: fc.integer({ min: 0, max: 0xffffffff }),
  reserved: fc.uint8Array({ minLength: 96, maxLength: 96 }),
});

/** The .tapk parser (uploads, agent) against hostile files: no crash, no hang, a clear error. */
describe('fuzz: .tapk parser', () => {
  it('answers any bytes with a package or a clear TapkError', { timeout: FUZZ_TIMEOUT_MS }, () => {
    fuzz(
      fc.property(fc.uint8Array({ maxLength: 1024 }), (bytes) => {
        const { value, error } = timed(() => parseTapk(bytes));
        if (error) expectClearRefusal(error);
        else check(value!.name.length > 0, 'a package without a name');
      }),
    );
  });

  it(
    'answers any 256-byte trailer, magic included, with fields or a clear TapkError',
    { timeout: FUZZ_TIMEOUT_MS },
    () => {
      const trailer = fc
        .tuple(fc.uint8Array({ minLength: 248, maxLength: 248 }), fc.boolean())
        .map(([rest, magic]) =>
          Buffer.concat([Buffer.from(magic ? 'TAPKV3.0' : 'TAPKV3.1', 'latin1'), rest]),
        );
      fuzz(
        fc.property(trailer, (bytes) => {
          const { value, error } = timed(() => parseTapkTrailer(bytes));
          if (error) expectClearRefusal(error);
          else check(value!.buildTime >= 0, 'negative build time');
        }),
      );
    },
  );

  it('reads back what a valid package holds', { timeout: FUZZ_TIMEOUT_MS }, () => {
    fuzz(
      fc.property(validTapk, (parts) => {
        const info = parseTapk(buildTapk(parts));
        check(info.name === parts.name, 'name');
        check(info.description === parts.description, 'description');
        check(info.buildTime === parts.buildTime, 'build time');
      }),
    );
  });

  it('refuses every package with one byte changed', { timeout: FUZZ_TIMEOUT_MS }, () => {
    fuzz(
      fc.property(validTapk, fc.nat(), fc.integer({ min: 1, max: 255 }), (parts, where, xor) => {
        const file = buildTapk(parts);
        file[where % file.length] ^= xor;
        const { error } = timed(() => parseTapk(file));
        expectClearRefusal(error);
      }),
    );
  });

  it('refuses every cut or padded package', { timeout: FUZZ_TIMEOUT_MS }, () => {
    fuzz(
      fc.property(validTapk, fc.integer({ min: -300, max: 64 }), (parts, delta) => {
        fc.pre(delta !== 0);
        const file = buildTapk(parts);
        const changed =
          delta < 0
            ? file.subarray(0, Math.max(0, file.length + delta))
            : Buffer.concat([file, Buffer.alloc(delta)]);
        expectClearRefusal(timed(() => parseTapk(changed)).error);
      }),
    );
  });

  it('gives the same answer streamed in any chunks as whole', { timeout: FUZZ_TIMEOUT_MS }, () => {
    const input = fc.oneof(
      validTapk.map(buildTapk),
      fc.uint8Array({ maxLength: 700 }).map(Buffer.from),
    );
    fuzz(
      fc.property(input, fc.array(fc.nat({ max: 300 }), { maxLength: 8 }), (file, cuts) => {
        const whole = timed(() => parseTapk(file));
        const checker = new TapkStreamChecker();
        const points = [...new Set(cuts.map((c) => c % (file.length + 1)))].sort((a, b) => a - b);
        let start = 0;
        for (const point of [...points, file.length]) {
          checker.update(file.subarray(start, point));
          start = point;
        }
        const streamed = timed(() => checker.finish());
        if (whole.error) {
          expectClearRefusal(streamed.error);
          // Length is judged the same way; which of two problems is named first may differ.
          if (
            (whole.error as TapkError).problem === 'too_short' ||
            file.length < TAPK_TRAILER_SIZE
          ) {
            check((streamed.error as TapkError).problem === 'too_short', 'length judged alike');
          }
        } else {
          check(JSON.stringify(streamed.value) === JSON.stringify(whole.value), 'same package');
        }
      }),
    );
  });
});
