import type { Command } from 'commander';
import type { TokenView } from '../../server/auth/token-service.js';
import { clientFor, withApiOptions } from '../api-client.js';
import { expiryFrom, isoOrDash } from '../duration.js';
import { printFields, printResult } from '../output.js';

/** `tiota token …`: API tokens for scripts and CI (shown once, revocable, expiring). */
export function registerTokenCommands(program: Command): void {
  const token = program
    .command('token')
    .description('API tokens: create (shown once), list, revoke');

  withApiOptions(
    token
      .command('create <name>')
      .description('create an API token; prints it once')
      .option('--expires-in <duration>', '30m, 12h, 90d, 1y or never', '90d')
      .option('--role <role>', 'limit the token below your role, e.g. viewer for dashboards')
      .option('--account <username>', 'make it for another account (admins)'),
  ).action(async (name: string, options) => {
    const body = {
      name,
      expiresAt: expiryFrom(options.expiresIn, '--expires-in'),
      ...(options.role && { role: options.role }),
      ...(options.account && { account: options.account }),
    };
    const made = await clientFor(options).request<TokenView & { token: string }>(
      'POST',
      '/tokens',
      body,
    );
    printFields(options.json, made);
    if (!options.json) process.stderr.write('\nstore the token now: it is not shown again\n');
  });

  withApiOptions(
    token
      .command('list')
      .description('list your tokens and console sessions')
      .option('--all', "every account's tokens (admins)"),
  ).action(async (options) => {
    const query = options.all ? '?all=true' : '';
    const result = await clientFor(options).request<{ tokens: TokenView[] }>(
      'GET',
      `/tokens${query}`,
    );
    const rows = result.tokens.map((t) => ({
      id: t.id,
      name: t.name,
      account: t.account,
      kind: t.kind,
      role: t.role ?? '(account)',
      expires: isoOrDash(t.expiresAt),
      lastUsed: isoOrDash(t.lastUsedAt),
      state: t.revokedAt !== null ? 'revoked' : t.active ? 'active' : 'expired',
    }));
    printResult(options.json, result, rows);
  });

  withApiOptions(token.command('revoke <id>').description('revoke a token or session')).action(
    async (id: string, options) => {
      await clientFor(options).request('DELETE', `/tokens/${encodeURIComponent(id)}`);
      if (!options.json) process.stdout.write(`token ${id} revoked\n`);
    },
  );
}
