import type { Command } from 'commander';
import type { AccountView } from '../../server/auth/account-service.js';
import { CliError, clientFor, withApiOptions } from '../api-client.js';
import { isoOrDash, readStdinSecret } from '../duration.js';
import { printFields, printResult } from '../output.js';

const ROLES = ['admin', 'operator', 'viewer'];

function checkRole(role: string): string {
  if (!ROLES.includes(role)) throw new CliError(`role must be one of ${ROLES.join(', ')}`);
  return role;
}

/** `tiota account …`: operator accounts (admins only). Passwords come from stdin, never argv. */
export function registerAccountCommands(program: Command): void {
  const account = program.command('account').description('operator accounts and roles (admins)');

  withApiOptions(account.command('list').description('list accounts')).action(async (options) => {
    const result = await clientFor(options).request<{ accounts: AccountView[] }>(
      'GET',
      '/accounts',
    );
    const rows = result.accounts.map((a) => ({
      username: a.username,
      role: a.role,
      disabled: a.disabled ? 'yes' : '',
      created: isoOrDash(a.createdAt),
    }));
    printResult(options.json, result, rows);
  });

  withApiOptions(
    account
      .command('add <username>')
      .description('create an account; prints a generated password (shown once)')
      .requiredOption('--role <role>', 'admin, operator or viewer')
      .option('--password-stdin', 'read the password from stdin instead of generating one'),
  ).action(async (username: string, options) => {
    const body: Record<string, string> = { username, role: checkRole(options.role) };
    if (options.passwordStdin) body.password = await readStdinSecret('password');
    const result = await clientFor(options).request<{ account: AccountView; password?: string }>(
      'POST',
      '/accounts',
      body,
    );
    printFields(options.json, {
      ...result.account,
      ...(result.password && { password: result.password }),
    });
  });

  withApiOptions(
    account.command('role <username> <role>').description('change the role of an account'),
  ).action(async (username: string, role: string, options) => {
    await patch(options, username, { role: checkRole(role) });
  });

  withApiOptions(
    account.command('disable <username>').description('disable an account and revoke its tokens'),
  ).action(async (username: string, options) => patch(options, username, { disabled: true }));

  withApiOptions(
    account
      .command('enable <username>')
      .description('enable a disabled account (old tokens stay revoked)'),
  ).action(async (username: string, options) => patch(options, username, { disabled: false }));

  withApiOptions(
    account
      .command('reset-password <username>')
      .description("set a new password read from stdin; ends the account's console sessions"),
  ).action(async (username: string, options) => {
    await patch(options, username, { password: await readStdinSecret('password') });
  });
}

async function patch(
  options: Record<string, any>,
  username: string,
  change: object,
): Promise<void> {
  const route = `/accounts/${encodeURIComponent(username)}`;
  const view = await clientFor(options).request<AccountView>('PATCH', route, change);
  printFields(options.json, view);
}
