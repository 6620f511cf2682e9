import { execFile } from 'node:child_process';

export interface WrkResult {
  readonly requestsPerSecond: number;
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
  return {
    requestsPerSecond: Number(rps[1]),
    errors: Number(non2xx?.[1] ?? 0) + socketErrors,
    latencyP99: p99?.[1] ?? '?',
  };
}
