import type { Command } from 'commander';
import { resolveConfig, SERVER_OPTIONS, type ServerConfig } from '../../server/config.js';
import { setHeapGrowth } from '../../server/heap-growth.js';
import { startServer } from '../../server/start-server.js';

export function registerServerCommand(program: Command): void {
  const command = program
    .command('server')
    .description(
      'run the Tiota server (embedded default: SQLite, embedded MQTT broker, local files)',
    );
  for (const spec of SERVER_OPTIONS) {
    command.option(`${spec.flag} <value>`, `${spec.description} [env ${spec.env}]`);
  }
  command.action(async (options: Record<string, string | undefined>) => {
    const flags: Partial<Record<keyof ServerConfig, string>> = {};
    for (const spec of SERVER_OPTIONS) {
      const value = options[camel(spec.flag)];
      if (value !== undefined) flags[spec.key] = value;
    }
    const config = resolveConfig(flags);
    setHeapGrowth(config.heapGrowthPercent);
    const server = await startServer(config);
    const lines = [
      `Tiota is running.`,
      `  console and API   ${server.httpUrl}/   (OpenAPI: ${server.httpUrl}/api/v1/openapi.json)`,
      `  device downloads  ${server.publicUrl}/d/…`,
      `  MQTT for devices  ${server.mqttUrl}`,
      `  data folder       ${config.dataDir}`,
      `  admin API token   in ${server.admin.tokenFile} (mode 0600): log in to the console with it,`,
      `                    or use the CLI: tiota device list --data-dir ${config.dataDir}`,
      `                    or curl -H "Authorization: Bearer $(cat ${server.admin.tokenFile})" ${server.httpUrl}/api/v1/devices`,
    ];
    if (server.admin.created) {
      lines.push(
        `  first start: created account "admin"; its password is in ${config.dataDir}/admin-password`,
      );
    }
    process.stderr.write(lines.join('\n') + '\n');

    const stop = async (signal: string) => {
      process.stderr.write(`\n${signal}: stopping…\n`);
      await server.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}

function camel(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}
