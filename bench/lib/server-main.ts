/**
 * The server in a process of its own, configured by TIOTA_* variables as `tiota server` is,
 * so the benchmark can read its CPU time and peak RSS from /proc. Reports its URLs and the
 * admin token over IPC; SIGTERM closes it.
 */
import { readFile } from 'node:fs/promises';
import { resolveConfig } from '../../src/server/config.js';
import { setHeapGrowth } from '../../src/server/heap-growth.js';
import { createLogger } from '../../src/server/log.js';
import { startServer } from '../../src/server/start-server.js';

const config = resolveConfig({}, process.env);
setHeapGrowth(config.heapGrowthPercent);
const server = await startServer(config, createLogger(config.logLevel));
const token = (await readFile(server.admin.tokenFile, 'utf8')).trim();
process.send!({ type: 'ready', httpUrl: server.httpUrl, mqttUrl: server.mqttUrl, token });

process.on('SIGTERM', () => {
  server
    .close()
    .catch(() => undefined)
    .finally(() => process.exit(0));
});
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
