import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface WrkResult {
  readonly requestsPerSecond: number;
  /** Responses completed in the run. */
  readonly requests: number;
  /** CPU time the server process used during the run (µs, user + system), when known. */
  serverCpuMicros?: number;
  /** Responses that were not 2xx/3xx, plus connect/read/write/timeout errors. */
  readonly errors: number;
  readonly latencyP99: string;
}

export interface WrkCase {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  /** false: every request asks for `Connection: close`, so each download opens a connection. */
  readonly keepAlive: boolean;
}

/** Runs wrk on one fixed URL and reads its summary. */
export function runWrk(c: WrkCase): Promise<WrkResult> {
  const args = ['-t1', `-c${c.connections}`, `-d${c.seconds}s`, '--latency', '--timeout', '5s'];
  if (!c.keepAlive) args.push('-H', 'Connection: close');
  args.push(c.url);

  return new Promise((resolve, reject) => {
    execFile('wrk', args, { timeout: (c.seconds + 30) * 1000 }, (err, stdout) => {
      if (err) return reject(err);
      resolve(parseWrk(stdout));
    });
  });
}

export function parseWrk(text: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (!rps) throw new Error(`wrk printed no Requests/sec:\n${text}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  const p99 = /\s99%\s+(\S+)/.exec(text);
  const requests = /(\d+) requests in/.exec(text);
  return {
    requestsPerSecond: Number(rps[1]),
    requests: Number(requests?.[1] ?? 0),
    errors: Number(non2xx?.[1] ?? 0) + socketErrors,
    latencyP99: p99?.[1] ?? '?',
  };
}

/** User + system CPU time of a process so far, µs (Linux /proc; clock ticks of 10 ms). */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / CLOCK_TICKS;
}

const CLOCK_TICKS = 100;
