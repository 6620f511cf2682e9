import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  cmdTopic,
  helloTopic,
  MAX_PAYLOAD_BYTES,
  parseCommand,
  parseDeviceTopic,
  parseHello,
  parsePresence,
  parseStatus,
  PayloadError,
  presenceTopic,
  REPORTED_STATES,
  statusTopic,
  isValidDeviceId,
} from '../../src/shared/protocol/index.js';
import { check, FUZZ_TIMEOUT_MS, fuzz, timed } from './fuzz-runs.js';

const PARSERS = {
  hello: parseHello,
  status: parseStatus,
  presence: parsePresence,
  command: parseCommand,
};
const FIELDS = [
  'app',
  'version',
  'appId',
  'agent',
  'profile',
  'last',
  'busy',
  'cmd',
  'state',
  'code',
  'reason',
  'http',
  'bytes',
  'detail',
  'online',
  'v',
  'op',
  'id',
  'url',
  'size',
  'sha256',
  'sig',
  'exp',
  '__proto__',
  'constructor',
];

/** Values a device, a broken firmware or an attacker could put in a field. */
const fieldValue = fc.oneof(
  fc.string({ maxLength: 140 }),
  fc.constantFrom(...REPORTED_STATES, 'install', 'cancel', 'http://h/d/x', 'a'.repeat(64), ''),
  fc.integer(),
  fc.integer({ min: -2000, max: 2000 }),
  fc.double(),
  fc.constantFrom(1, 0, -1, 2 ** 53, -0, 1e308, true, false, null),
  fc.jsonValue({ maxDepth: 2 }),
);
const structured = fc
  .dictionary(fc.constantFrom(...FIELDS), fieldValue, { maxKeys: 12 })
  .map((obj) => JSON.stringify(obj));
/** Valid messages of every kind, to be bent one or two fields at a time. */
const validMessage = fc.oneof(
  fc.record({ app: fc.constant('app'), version: fc.constant('1.0.0'), appId: fc.constant(7) }),
  fc.record({
    cmd: fc.constant('c-1'),
    state: fc.constantFrom(...REPORTED_STATES),
    bytes: fc.nat(),
  }),
  fc.record({ online: fc.boolean() }),
  fc.record({
    v: fc.constant(1),
    op: fc.constant('install'),
    id: fc.constant('c-2'),
    app: fc.constant('app'),
    version: fc.constant('2.0.0'),
    url: fc.constant('http://10.0.0.5:8080/d/abc'),
    size: fc.constant(1024),
    sha256: fc.constant('0'.repeat(64)),
    sig: fc.constant('c2ln'),
    exp: fc.constant(1_900_000_000),
  }),
);
const nearlyValid = fc
  .tuple(
    validMessage,
    fc.array(fc.tuple(fc.constantFrom(...FIELDS), fc.option(fieldValue, { nil: undefined })), {
      maxLength: 2,
    }),
  )
  .map(([message, changes]) => {
    const bent: Record<string, unknown> = { ...message };
    for (const [key, value] of changes) {
      if (value === undefined) delete bent[key];
      else bent[key] = value;
    }
    return JSON.stringify(bent);
  });
const payloads = fc.oneof(
  nearlyValid,
  structured,
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.string({ maxLength: 300 }),
  fc.uint8Array({ maxLength: MAX_PAYLOAD_BYTES + 200 }),
  fc.nat(64).map((n) => '['.repeat(n * 40) + ']'.repeat(n * 40)),
);

const text = (v: unknown, max: number) => typeof v === 'string' && v.length > 0 && v.length <= max;
const optText = (v: unknown, max: number) => v === undefined || text(v, max);
const int = (v: unknown, min: number, max: number) =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const optInt = (v: unknown, min: number, max: number) => v === undefined || int(v, min, max);

/** What each parser promises about a payload it accepts (docs/protocol.md). */
const INVARIANTS: Record<keyof typeof PARSERS, (m: any) => boolean> = {
  hello: (m) =>
    text(m.app, 64) &&
    text(m.version, 64) &&
    optInt(m.appId, -1, 65535) &&
    optText(m.agent, 128) &&
    optText(m.profile, 32) &&
    optText(m.busy, 128) &&
    (m.last === undefined || (text(m.last.cmd, 128) && REPORTED_STATES.includes(m.last.state))),
  status: (m) =>
    text(m.cmd, 128) &&
    REPORTED_STATES.includes(m.state) &&
    optInt(m.code, -1000, 1000) &&
    optText(m.reason, 64) &&
    optInt(m.http, 0, 999) &&
    optInt(m.bytes, 0, Number.MAX_SAFE_INTEGER) &&
    optText(m.version, 64) &&
    optText(m.detail, 512),
  presence: (m) => typeof m.online === 'boolean' && Object.keys(m).length === 1,
  command: (m) =>
    m.v === 1 &&
    text(m.id, 128) &&
    (m.op === 'cancel' ||
      (m.op === 'install' &&
        /^https?:\/\/\S+$/.test(m.url) &&
        m.url.length < 128 &&
        /^[0-9a-f]{64}$/.test(m.sha256) &&
        int(m.size, 1, 2 ** 30) &&
        int(m.exp, 0, 0xffffffff))),
};

/** Every MQTT payload parser and the topic parser: no crash, no hang, a clear error. */
describe('fuzz: MQTT payload parsers', () => {
  for (const [name, parse] of Object.entries(PARSERS) as [
    keyof typeof PARSERS,
    (p: Uint8Array | string) => unknown,
  ][]) {
    it(
      `${name}: returns a message keeping its promises, or throws a PayloadError`,
      { timeout: FUZZ_TIMEOUT_MS },
      () => {
        fuzz(
          fc.property(payloads, (payload) => {
            const { value, error } = timed(() => parse(payload));
            if (error !== undefined) {
              check(error instanceof PayloadError, () => `${name} threw ${String(error)}`);
              check(
                error.message.startsWith(name === 'command' ? 'command' : name),
                'message names the payload',
              );
            } else {
              check(INVARIANTS[name](value), () => `${name} accepted ${JSON.stringify(value)}`);
            }
          }),
        );
        check(({} as Record<string, unknown>).polluted === undefined, 'prototype polluted');
      },
    );
  }

  it('reads back every valid status it is given', { timeout: FUZZ_TIMEOUT_MS }, () => {
    const status = fc.record(
      {
        cmd: fc.string({ minLength: 1, maxLength: 128 }),
        state: fc.constantFrom(...REPORTED_STATES),
        code: fc.integer({ min: -1000, max: 1000 }),
        reason: fc.string({ minLength: 1, maxLength: 64 }),
        bytes: fc.nat(),
        detail: fc.string({ minLength: 1, maxLength: 200 }),
      },
      { requiredKeys: ['cmd', 'state'] },
    );
    fuzz(
      fc.property(status, (m) => {
        const parsed = parseStatus(Buffer.from(JSON.stringify(m)));
        for (const [key, value] of Object.entries(m)) check((parsed as any)[key] === value, key);
      }),
    );
  });

  it('topics: splits only tiota/v1/d/<valid id>/<kind>', { timeout: FUZZ_TIMEOUT_MS }, () => {
    const idChars = fc.constantFrom(...'abcXYZ019._:-/+# \u0000é'.split(''));
    const id = fc.string({ unit: idChars, maxLength: 70 });
    const topic = fc.oneof(
      fc.string({ maxLength: 100 }),
      fc
        .tuple(id, fc.constantFrom('cmd', 'hello', 'status', 'presence', 'other', '', 'hello/x'))
        .map(([d, k]) => `tiota/v1/d/${d}/${k}`),
    );
    fuzz(
      fc.property(topic, (t) => {
        const { value, error } = timed(() => parseDeviceTopic(t));
        check(error === undefined, () => `threw on ${t}`);
        if (value) {
          check(isValidDeviceId(value.deviceId), () => `invalid id from ${t}`);
          const builders = {
            cmd: cmdTopic,
            hello: helloTopic,
            status: statusTopic,
            presence: presenceTopic,
          };
          check(builders[value.kind](value.deviceId) === t, 'round trip');
        }
      }),
    );
  });
});
