import { createHash } from 'node:crypto';
import { PayloadError, parseCommand, type InstallCommand } from '../shared/protocol/index.js';

/** What the agent does with one message on its cmd topic. */
export type Intake =
  /** Nothing: an empty payload clears a retained command, it is no command. */
  | { readonly kind: 'ignore' }
  /** Malformed: one `rejected` report, keyed so a redelivery is not rejected twice. */
  | {
      readonly kind: 'reject';
      readonly key: string;
      readonly cmdId: string;
      readonly detail: string;
    }
  | { readonly kind: 'install'; readonly cmd: InstallCommand }
  | { readonly kind: 'cancel'; readonly id: string };

/** The `cmd` of a rejection when the payload names no usable id. */
export const UNKNOWN_COMMAND_ID = '-';

/**
 * Parses a command strictly (src/shared/protocol parseCommand: bad JSON, a missing URL, a size
 * that is negative or over 1 GiB, a hash that is not SHA-256 hex, an unknown `op` or `v`).
 */
export function takeCommand(payload: Buffer): Intake {
  if (payload.length === 0) return { kind: 'ignore' };
  try {
    const cmd = parseCommand(payload);
    return cmd.op === 'cancel' ? { kind: 'cancel', id: cmd.id } : { kind: 'install', cmd };
  } catch (error) {
    if (!(error instanceof PayloadError)) throw error;
    const key = `payload:${createHash('sha256').update(payload).digest('hex').slice(0, 32)}`;
    return { kind: 'reject', key, cmdId: guessId(payload), detail: error.message };
  }
}

/** The id of a command that failed to parse, when it still has a plausible one. */
function guessId(payload: Buffer): string {
  try {
    const value = JSON.parse(payload.toString('utf8')) as { id?: unknown };
    if (typeof value.id === 'string' && value.id.length > 0 && value.id.length <= 128) {
      return value.id;
    }
  } catch {
    // Not JSON: no id to echo.
  }
  return UNKNOWN_COMMAND_ID;
}
