import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './fixture.js';
import { freePort } from './processes.js';

/** The broker binary: MOSQUITTO_BIN, else `mosquitto` on PATH (Debian puts it in /usr/sbin). */
const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN ?? 'mosquitto';

export interface MosquittoBroker {
  readonly port: number;
  readonly passwordFile: string;
  readonly aclFile: string;
  readonly pidFile: string;
  /** `mqtt://127.0.0.1:<port>`, with credentials when given. */
  url(username?: string, password?: string): string;
  /** Server options that make Tiota keep this broker's files. */
  readonly serverConfig: {
    mosquittoPasswordFile: string;
    mosquittoAclFile: string;
    mosquittoPidFile: string;
  };
  /** Stops the broker and starts it again on the same port (a broker restart). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real Mosquitto on a free port, run with the project's own configuration
 * (deploy/mosquitto/mosquitto.conf) with only the file paths and the listener changed. Its
 * password and ACL files start empty: the Tiota server under test fills them.
 */
export async function startMosquitto(): Promise<MosquittoBroker> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tiota-mosquitto-'));
  const files = {
    passwordFile: path.join(dir, 'passwd'),
    aclFile: path.join(dir, 'acl'),
    pidFile: path.join(dir, 'mosquitto.pid'),
  };
  await writeFile(files.passwordFile, '', { mode: 0o640 });
  await writeFile(files.aclFile, '', { mode: 0o640 });
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  await writeFile(conf, await projectConfig(files, port));

  let broker = await run(conf, port, files.pidFile);
  return {
    port,
    ...files,
    url: (username, password) =>
      username
        ? `mqtt://${encodeURIComponent(username)}:${encodeURIComponent(password ?? '')}@127.0.0.1:${port}`
        : `mqtt://127.0.0.1:${port}`,
    serverConfig: {
      mosquittoPasswordFile: files.passwordFile,
      mosquittoAclFile: files.aclFile,
      mosquittoPidFile: files.pidFile,
    },
    restart: async () => {
      await broker.stop();
      broker = await run(conf, port, files.pidFile);
    },
    stop: async () => {
      await broker.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts `mosquitto -c conf` and waits until it listens and has written its pid file. */
async function run(
  conf: string,
  port: number,
  pidFile: string,
): Promise<{ stop(): Promise<void> }> {
  const child = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (error) => (log += `\n${error.message}`));
  await waitForPort(port, () => (child.exitCode !== null || child.signalCode ? log : null));
  // Tiota signals the pid in this file: it must be there before a server starts.
  await readFile(pidFile, 'utf8');
  return {
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function projectConfig(
  files: { passwordFile: string; aclFile: string; pidFile: string },
  port: number,
): Promise<string> {
  const shipped = await readFile(path.join(REPO_ROOT, 'deploy/mosquitto/mosquitto.conf'), 'utf8');
  const replaced = shipped
    .replace(/^password_file .*$/m, `password_file ${files.passwordFile}`)
    .replace(/^acl_file .*$/m, `acl_file ${files.aclFile}`)
    .replace(/^pid_file .*$/m, `pid_file ${files.pidFile}`)
    .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`);
  // Started as root, Mosquitto would switch to its own user, who cannot read a test's files.
  return `${replaced}\nuser ${os.userInfo().username}\n`;
}

async function waitForPort(port: number, failed: () => string | null): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    const log = failed();
    if (log !== null) throw new Error(`mosquitto exited:\n${log}`);
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
