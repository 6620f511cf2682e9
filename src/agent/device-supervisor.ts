import { spawn, type ChildProcess } from 'node:child_process';
import type { AgentLogger } from './agent-logger.js';
import { backoffDelay } from './backoff.js';

/** Exit status by which the device process asks its supervisor to restart it (EX_TEMPFAIL). */
export const REBOOT_EXIT_CODE = 75;
/** Exit status of a device process that cannot run as configured (EX_CONFIG): not restarted. */
export const CONFIG_EXIT_CODE = 78;

export interface SupervisorOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly log: AgentLogger;
  /** Pause before starting again after a requested restart, ms (default 300). */
  readonly rebootDelayMs?: number;
  /** First pause after a crash, doubling up to 30 s while crashes repeat, ms (default 1000). */
  readonly crashDelayMs?: number;
}

/**
 * Plays the part of the hardware for the device process: a restart it asks for (exit status
 * REBOOT_EXIT_CODE) is a reboot, and a crash or kill is a watchdog reset. Either way the next
 * device process knows only what is on disk. The device process leads its own process group,
 * so the apps it started go down with it, as they would on a real reboot.
 * Resolves with the device's exit status once it exits for good (status 0 or CONFIG_EXIT_CODE,
 * or this process was asked to stop with SIGINT/SIGTERM).
 */
export function superviseDevice(options: SupervisorOptions): Promise<number> {
  const { log } = options;
  let child: ChildProcess | null = null;
  let stopping = false;
  let crashes = 0;

  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      stopping = true;
      log.info({ signal }, 'stopping the device');
      if (child?.pid) process.kill(-child.pid, 'SIGTERM');
      else resolve(0);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    const boot = (): void => {
      child = spawn(options.command, [...options.args], { stdio: 'inherit', detached: true });
      const pid = child.pid;
      log.info({ pid }, 'device process started');
      child.on('exit', (code, signal) => {
        // Whatever the device process left running (its apps) ends with it.
        if (pid) killGroup(pid);
        child = null;
        if (stopping || code === 0 || code === CONFIG_EXIT_CODE) {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve(code ?? 0);
          return;
        }
        if (code === REBOOT_EXIT_CODE) {
          crashes = 0;
          log.info('device restarting');
          setTimeout(boot, options.rebootDelayMs ?? 300);
          return;
        }
        const delay = backoffDelay(crashes++, {
          baseMs: options.crashDelayMs ?? 1000,
          maxMs: 30_000,
        });
        log.warn({ code, signal, delay }, 'device process died: restarting it');
        setTimeout(boot, delay);
      });
    };
    boot();
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}
