import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * nginx as the yardstick: one worker, sendfile on, no access log, everything (config, pid,
 * logs, temp folders) under `prefix`, so the system's default config is never read.
 */
export function nginxConfig(prefix: string, root: string, port: number): string {
  return `
daemon off;
worker_processes 1;
user root;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  # keep-alive connections stay open for the whole run, as Node's do
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  default_type application/octet-stream;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${root};
  }
}
`;
}

export function startNginx(prefix: string, root: string, port: number): ChildProcess {
  mkdirSync(path.join(prefix, 'tmp'), { recursive: true });
  const conf = path.join(prefix, 'nginx.conf');
  writeFileSync(conf, nginxConfig(prefix, root, port));
  // -e: the error log before the config is read would otherwise go to /var/log/nginx.
  return spawn('nginx', ['-p', prefix, '-c', conf, '-e', path.join(prefix, 'error.log')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/** The worker of an nginx master (its only child), whose CPU time the bench reads. */
export async function nginxWorkerPid(masterPid: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === masterPid) return Number(entry);
      } catch {
        // the process ended while we looked
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nginx (pid ${masterPid}) started no worker`);
}
