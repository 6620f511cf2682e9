import type { Command } from 'commander';
import type { AuditEntry } from '../../server/domain/audit-log.js';
import { clientFor, withApiOptions } from '../api-client.js';
import { printResult } from '../output.js';

export function registerAuditCommands(program: Command): void {
  const audit = program
    .command('audit')
    .description('the audit log: who did what, when, from where');
  withApiOptions(
    audit
      .command('list')
      .description('list audit entries, newest first')
      .option('--actor <name>', 'only this account')
      .option('--action <action>', 'only this action, e.g. package.upload')
      .option('--limit <n>', 'at most this many', '50'),
  ).action(async (options) => {
    const query = new URLSearchParams({ limit: options.limit });
    if (options.actor) query.set('actor', options.actor);
    if (options.action) query.set('action', options.action);
    const result = await clientFor(options).request<{ entries: AuditEntry[] }>(
      'GET',
      `/audit?${query}`,
    );
    printResult(
      options.json,
      result,
      result.entries.map((e) => ({
        at: new Date(e.at).toISOString(),
        actor: e.actor,
        action: e.action,
        target: e.target,
        ip: e.ip,
        detail: e.detail,
      })),
    );
  });
}
