import { hasControlCharacter } from '../control-characters.js';
import {
  REPORTED_STATES,
  type DeviceCommand,
  type HelloMessage,
  type PresenceMessage,
  type ReportedState,
  type StatusMessage,
} from './messages.js';

/** Payloads larger than this are refused before parsing: devices send a few hundred bytes. */
export const MAX_PAYLOAD_BYTES = 4096;

export class PayloadError extends Error {
  override name = 'PayloadError';
}

type Json = Record<string, unknown>;

function parseObject(payload: Uint8Array | string, what: string): Json {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > MAX_PAYLOAD_BYTES) {
    throw new PayloadError(`${what}: payload of ${size} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(
      typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'),
    );
  } catch {
    throw new PayloadError(`${what}: not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PayloadError(`${what}: expected a JSON object`);
  }
  return value as Json;
}

/**
 * A text field. Names, versions, ids and codes hold no control characters: they end up in
 * operators' terminals and logs. Free text (`detail`) may hold line breaks and tabs, but no
 * NUL, which PostgreSQL cannot store: refused here, the report fails as a whole with a clear
 * reason instead of failing its database write.
 */
function text(obj: Json, key: string, what: string, max = 128, freeText = false): string {
  const v = obj[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > max) {
    throw new PayloadError(
      `${what}: "${key}" must be a non-empty string of at most ${max} characters`,
    );
  }
  if (v.includes('\u0000')) {
    throw new PayloadError(`${what}: "${key}" must not contain a NUL character (U+0000)`);
  }
  if (!freeText && hasControlCharacter(v)) {
    throw new PayloadError(`${what}: "${key}" must not contain control characters`);
  }
  return v;
}

function optionalText(
  obj: Json,
  key: string,
  what: string,
  max = 256,
  freeText = false,
): string | undefined {
  return obj[key] === undefined ? undefined : text(obj, key, what, max, freeText);
}

function integer(obj: Json, key: string, what: string, min: number, max: number): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new PayloadError(`${what}: "${key}" must be a whole number from ${min} to ${max}`);
  }
  return v;
}

function optionalInteger(obj: Json, key: string, what: string, min: number, max: number) {
  return obj[key] === undefined ? undefined : integer(obj, key, what, min, max);
}

function state(value: unknown, what: string): ReportedState {
  if (typeof value !== 'string' || !REPORTED_STATES.includes(value as ReportedState)) {
    throw new PayloadError(`${what}: "state" must be one of ${REPORTED_STATES.join(', ')}`);
  }
  return value as ReportedState;
}

export function parseHello(payload: Uint8Array | string): HelloMessage {
  const what = 'hello';
  const obj = parseObject(payload, what);
  let last: HelloMessage['last'];
  if (obj.last !== undefined) {
    if (typeof obj.last !== 'object' || obj.last === null || Array.isArray(obj.last)) {
      throw new PayloadError(`${what}: "last" must be an object`);
    }
    const l = obj.last as Json;
    last = {
      cmd: text(l, 'cmd', what),
      state: state(l.state, what),
      code: optionalInteger(l, 'code', what, -1000, 1000),
      reason: optionalText(l, 'reason', what, 64),
    };
  }
  return {
    app: text(obj, 'app', what, 64),
    version: text(obj, 'version', what, 64),
    appId: optionalInteger(obj, 'appId', what, -1, 65535),
    agent: optionalText(obj, 'agent', what, 128),
    profile: optionalText(obj, 'profile', what, 32),
    last,
    busy: optionalText(obj, 'busy', what, 128),
  };
}

export function parseStatus(payload: Uint8Array | string): StatusMessage {
  const what = 'status';
  const obj = parseObject(payload, what);
  return {
    cmd: text(obj, 'cmd', what),
    state: state(obj.state, what),
    code: optionalInteger(obj, 'code', what, -1000, 1000),
    reason: optionalText(obj, 'reason', what, 64),
    http: optionalInteger(obj, 'http', what, 0, 999),
    bytes: optionalInteger(obj, 'bytes', what, 0, Number.MAX_SAFE_INTEGER),
    version: optionalText(obj, 'version', what, 64),
    detail: optionalText(obj, 'detail', what, 512, true),
  };
}

export function parsePresence(payload: Uint8Array | string): PresenceMessage {
  const obj = parseObject(payload, 'presence');
  if (typeof obj.online !== 'boolean') {
    throw new PayloadError('presence: "online" must be true or false');
  }
  return { online: obj.online };
}

/** Largest package a command may announce (1 GiB); anything above is absurd for a device. */
export const MAX_COMMAND_SIZE = 1024 * 1024 * 1024;

/** Used by devices (agent, simulator) to check what the server sent. */
export function parseCommand(payload: Uint8Array | string): DeviceCommand {
  const what = 'command';
  const obj = parseObject(payload, what);
  if (obj.v !== 1)
    throw new PayloadError(`${what}: unsupported version "v": ${JSON.stringify(obj.v)}`);
  const id = text(obj, 'id', what);
  if (obj.op === 'cancel') return { v: 1, op: 'cancel', id };
  if (obj.op !== 'install')
    throw new PayloadError(`${what}: unknown "op": ${JSON.stringify(obj.op)}`);
  const url = text(obj, 'url', what, 127);
  if (!/^https?:\/\/\S+$/.test(url)) {
    throw new PayloadError(`${what}: "url" must be an http(s) URL without spaces`);
  }
  const sha256 = text(obj, 'sha256', what, 64);
  if (!/^[0-9a-f]{64}$/.test(sha256)) {
    throw new PayloadError(`${what}: "sha256" must be 64 lowercase hex digits`);
  }
  return {
    v: 1,
    op: 'install',
    id,
    app: text(obj, 'app', what, 64),
    version: text(obj, 'version', what, 64),
    url,
    size: integer(obj, 'size', what, 1, MAX_COMMAND_SIZE),
    sha256,
    sig: text(obj, 'sig', what, 128),
    exp: integer(obj, 'exp', what, 0, 0xffffffff),
  };
}
