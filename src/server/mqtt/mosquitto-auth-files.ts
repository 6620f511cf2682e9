import { randomUUID } from 'node:crypto';
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { TOPIC_ROOT } from '../../shared/protocol/topics.js';
import type { ServerConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { Database } from '../store/schema.js';
import { mosquittoPasswordHash } from './mosquitto-password-hash.js';

/** How often a replica looks for devices added or revoked by other replicas, ms. */
export const AUTH_POLL_MS = 5_000;

export interface MosquittoAuthFilesOptions {
  /** Mosquitto's `password_file`: every live device, plus the server account. */
  readonly passwordFile: string;
  /** Mosquitto's `acl_file`, or null to leave the ACL to the operator. */
  readonly aclFile: string | null;
  /** Mosquitto's `pid_file`: SIGHUP makes it re-read both files. Null: reload some other way. */
  readonly pidFile: string | null;
  /** The account server replicas connect with (from TIOTA_MQTT_URL). */
  readonly serverUsername: string;
  readonly serverPassword: string;
  readonly pollMs?: number;
}

/**
 * Keeps Mosquitto's password and ACL files in step with the devices table, so Mosquitto itself
 * enforces device credentials and per-device topics (docs/deploy.md). The files are derived
 * from the database, never edited in place: each write renders them whole, renames them into
 * place (Mosquitto never reads half a file) and sends Mosquitto SIGHUP, on which it re-reads
 * them and drops connected clients whose account is gone (a revoked device is cut off).
 *
 * Every replica given the file options may write them; who may log in depends only on the
 * database, so replicas writing at once agree (the last rename wins). Changes made on another
 * replica are picked up by polling every AUTH_POLL_MS.
 */
export class MosquittoAuthFiles {
  readonly #options: MosquittoAuthFilesOptions;
  /** Hashed once: a fresh salt on every write would rewrite the server's line each time. */
  readonly #serverLine: string;
  #fingerprint = '';
  #timer: NodeJS.Timeout | null = null;
  #writing: Promise<void> = Promise.resolve();
  #queued: Promise<void> | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: Logger,
    options: MosquittoAuthFilesOptions,
  ) {
    this.#options = options;
    this.#serverLine = `${options.serverUsername}:${mosquittoPasswordHash(options.serverPassword)}`;
  }

  /** The files `config` asks for, or null when Tiota does not keep Mosquitto's files. */
  static fromConfig(
    config: ServerConfig,
    db: Kysely<Database>,
    log: Logger,
  ): MosquittoAuthFiles | null {
    if (!config.mqttUrl || !config.mosquittoPasswordFile) return null;
    const server = new URL(config.mqttUrl);
    return new MosquittoAuthFiles(db, log.child({ component: 'mosquitto-files' }), {
      passwordFile: config.mosquittoPasswordFile,
      aclFile: config.mosquittoAclFile,
      pidFile: config.mosquittoPidFile,
      serverUsername: decodeURIComponent(server.username),
      serverPassword: decodeURIComponent(server.password),
    });
  }

  /** Writes both files (the server's own account must be in place before it connects). */
  async start(): Promise<void> {
    if (this.#options.aclFile) {
      await writeAtomically(this.#options.aclFile, renderAclFile(this.#options.serverUsername));
    }
    await this.sync();
    this.#timer = setInterval(() => this.#poll(), this.#options.pollMs ?? AUTH_POLL_MS);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#writing;
  }

  /**
   * Rewrites the password file from the database and reloads Mosquitto. Calls made while a
   * write runs share the one write queued after it, so a burst of registrations costs two.
   */
  sync(): Promise<void> {
    if (this.#queued) return this.#queued;
    const run = this.#writing.then(() => {
      this.#queued = null;
      return this.#write();
    });
    this.#queued = run;
    this.#writing = run.catch(() => undefined);
    return run;
  }

  /** sync() for callers that cannot wait: a failure is logged, and the next poll retries. */
  syncSoon(): void {
    this.sync().catch((error: unknown) => {
      this.#fingerprint = '';
      this.log.error(
        { err: error, file: this.#options.passwordFile },
        'mosquitto files not written',
      );
    });
  }

  #poll(): void {
    this.#readFingerprint().then(
      (fingerprint) => fingerprint !== this.#fingerprint && this.syncSoon(),
      (error: unknown) => this.log.warn({ err: error }, 'checking devices for mosquitto failed'),
    );
  }

  /** Changes whenever a device gains a broker password or is revoked (no device is deleted). */
  async #readFingerprint(): Promise<string> {
    const row = await this.db
      .selectFrom('devices')
      .select((eb) => [
        eb.fn.count<number>('broker_password_hash').as('hashed'),
        eb.fn.count<number>('revoked_at').as('revoked'),
        eb.fn.max('id').as('last'),
      ])
      .executeTakeFirstOrThrow();
    return `${row.hashed}/${row.revoked}/${row.last}`;
  }

  async #write(): Promise<void> {
    const fingerprint = await this.#readFingerprint();
    const devices = await this.db
      .selectFrom('devices')
      .select(['device_id', 'broker_password_hash'])
      .where('revoked_at', 'is', null)
      .where('broker_password_hash', 'is not', null)
      .orderBy('id')
      .execute();

    const lines = [this.#serverLine];
    for (const device of devices) {
      if (device.device_id === this.#options.serverUsername) {
        // It would replace the server's account (and its access to every device).
        this.log.warn(
          { deviceId: device.device_id },
          'device named like the server account left out',
        );
        continue;
      }
      lines.push(`${device.device_id}:${device.broker_password_hash}`);
    }
    await writeAtomically(this.#options.passwordFile, lines.join('\n') + '\n');
    this.#fingerprint = fingerprint;
    await this.#reload();
    this.log.debug({ devices: lines.length - 1 }, 'mosquitto password file written');
  }

  async #reload(): Promise<void> {
    const { pidFile } = this.#options;
    if (!pidFile) return;
    let pid: number;
    try {
      pid = Number((await readFile(pidFile, 'utf8')).trim());
    } catch {
      // Not running yet: it reads the files when it starts.
      this.log.info({ pidFile }, 'mosquitto pid file not found; files written without reload');
      return;
    }
    try {
      if (Number.isInteger(pid) && pid > 0) process.kill(pid, 'SIGHUP');
    } catch (error) {
      this.log.warn({ err: error, pid }, 'mosquitto could not be told to reload');
    }
  }
}

/**
 * The ACL, the same for every fleet but for the server's account name. Mosquitto applies
 * `pattern` lines to every client with %u replaced by its user name, which for a device is its
 * device id (docs/protocol.md: ids hold no / + #, so %u cannot widen a pattern).
 */
export function renderAclFile(serverUsername: string): string {
  return [
    '# Written by Tiota (src/server/mqtt/mosquitto-auth-files.ts); edits are overwritten.',
    '',
    '# Server replicas: every device command out, every device report in.',
    `user ${serverUsername}`,
    `topic readwrite ${TOPIC_ROOT}/#`,
    '',
    '# Devices (user name = device id): their own commands in, their own reports out.',
    `pattern read ${TOPIC_ROOT}/%u/cmd`,
    `pattern write ${TOPIC_ROOT}/%u/hello`,
    `pattern write ${TOPIC_ROOT}/%u/status`,
    `pattern write ${TOPIC_ROOT}/%u/presence`,
    '',
  ].join('\n');
}

/**
 * Replaces `file` in one step: a rename within a folder is atomic, so Mosquitto reads the old
 * file or the new one. Readable by the group, for a broker that runs as another user.
 */
async function writeAtomically(file: string, content: string): Promise<void> {
  // Named apart per writer: replicas may share the folder (a shared volume).
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}.tmp`);
  await writeFile(temp, content, { mode: 0o640 });
  await chmod(temp, 0o640);
  await rename(temp, file);
}
