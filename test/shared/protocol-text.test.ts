import { describe, expect, it } from 'vitest';
import { parseHello, parseStatus, PayloadError } from '../../src/shared/protocol/index.js';

/** Text in device messages (docs/protocol.md): what reaches the database and the terminal. */
describe('text fields of device messages', () => {
  const hello = (fields: object) => JSON.stringify({ app: 'demo', version: '1.0.0', ...fields });
  const status = (fields: object) => JSON.stringify({ cmd: 'a1.1', state: 'failed', ...fields });

  it('refuses control characters in names, versions and codes, naming the field', () => {
    expect(() => parseHello(hello({ app: 'evil\u001b[2J' }))).toThrow(PayloadError);
    expect(() => parseHello(hello({ app: 'evil\u001b[2J' }))).toThrow(
      'hello: "app" must not contain control characters',
    );
    expect(() => parseHello(hello({ version: '1.0\r\n' }))).toThrow(/"version" must not contain/);
    expect(() => parseStatus(status({ reason: 'disk\u009bfull' }))).toThrow(/"reason"/);
  });

  it('refuses a NUL anywhere, free text included', () => {
    expect(() => parseStatus(status({ detail: 'a\u0000b' }))).toThrow(
      'status: "detail" must not contain a NUL character (U+0000)',
    );
    expect(() => parseHello(hello({ profile: 'ti\u0000jos' }))).toThrow(/NUL/);
  });

  it('keeps line breaks and tabs in free text, and any other character anywhere', () => {
    expect(parseStatus(status({ detail: 'line 1\n\tline 2' })).detail).toBe('line 1\n\tline 2');
    expect(parseHello(hello({ app: '温度计-α' })).app).toBe('温度计-α');
  });
});
