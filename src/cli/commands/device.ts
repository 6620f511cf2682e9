import { InvalidArgumentError, type Command } from 'commander';
import type { DeviceView } from '../../server/domain/device-service.js';
import { clientFor, withApiOptions } from '../api-client.js';
import { commaList } from '../comma-list.js';
import { isoOrDash } from '../duration.js';
import { printable, printFields, printResult } from '../output.js';

export function registerDeviceCommands(program: Command): void {
  const device = program.command('device').description('register and inspect devices');

  withApiOptions(
    device
      .command('add <id>')
      .description('register a device; prints its MQTT credentials (shown once)')
      .option(
        '--tag <tags>',
        'tags (groups) for targeting rollouts, comma-separated or repeated',
        commaList,
      )
      .option('--profile <profile>', 'tijos or agent'),
  ).action(async (id: string, options) => {
    const creds = await clientFor(options).request<Record<string, unknown>>('POST', '/devices', {
      deviceId: id,
      tags: options.tag,
      profile: options.profile,
    });
    printFields(options.json, creds);
  });

  withApiOptions(
    device
      .command('list')
      .description('list devices')
      .option('--tag <tag>', 'only devices with this tag (one)', onlyOnce('--tag'))
      .option('--search <text>', 'only devices whose id contains this text (case ignored)')
      .option('--app <name>', 'only devices running this app')
      .option('--version <version>', 'only devices running this version')
      .option('--online', 'only devices online now')
      .option('--limit <n>', 'at most this many', '100'),
  ).action(async (options) => {
    const query = new URLSearchParams();
    for (const key of ['tag', 'app', 'version', 'limit'] as const)
      if (options[key]) query.set(key, options[key]);
    if (options.search) query.set('q', options.search);
    if (options.online) query.set('online', 'true');
    const result = await clientFor(options).request<{ total: number; devices: DeviceView[] }>(
      'GET',
      `/devices?${query}`,
    );
    printResult(
      options.json,
      result,
      result.devices.map((d) => ({
        id: d.id,
        online: d.online ? 'yes' : 'no',
        app: d.app,
        version: d.version,
        tags: d.tags,
        lastSeen: d.lastSeenAt ? new Date(d.lastSeenAt).toISOString() : null,
        revoked: d.revoked ? 'yes' : '',
      })),
    );
  });

  withApiOptions(device.command('show <id>').description('show a device with its history')).action(
    async (id: string, options) => {
      const view = await clientFor(options).request<
        DeviceView & { history: { at: number; kind: string; detail: unknown }[] }
      >('GET', `/devices/${encodeURIComponent(id)}`);
      if (options.json) return printFields(true, view);
      const { history, ...fields } = view;
      // Times as `device list` shows them, not Unix milliseconds.
      const shown = Object.fromEntries(
        Object.entries(fields).map(([key, value]) => [
          key,
          key.endsWith('At') && (typeof value === 'number' || value === null)
            ? isoOrDash(value)
            : value,
        ]),
      );
      printFields(false, shown);
      process.stdout.write('\nhistory (newest first):\n');
      for (const event of history.slice(0, 30)) {
        const line = `${new Date(event.at).toISOString()}  ${event.kind.padEnd(22)} ${JSON.stringify(event.detail)}`;
        process.stdout.write(`  ${printable(line)}\n`);
      }
    },
  );

  withApiOptions(
    device
      .command('revoke <id>')
      .description('revoke a device: disconnected, no reconnects, no downloads'),
  ).action(async (id: string, options) => {
    const view = await clientFor(options).request<DeviceView>(
      'POST',
      `/devices/${encodeURIComponent(id)}/revoke`,
    );
    printFields(options.json, view as unknown as Record<string, unknown>);
  });
}

/** An option the server takes once: repeating it is an error, not "the last one wins". */
function onlyOnce(flag: string) {
  return (value: string, previous?: string): string => {
    if (previous !== undefined) throw new InvalidArgumentError(`give ${flag} once`);
    return value;
  };
}
