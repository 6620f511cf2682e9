import type { Command } from 'commander';
import type { EnrollmentTokenView } from '../../server/auth/enrollment-service.js';
import { CliError, clientFor, withApiOptions } from '../api-client.js';
import { commaList } from '../comma-list.js';
import { expiryFrom, isoOrDash } from '../duration.js';
import { printFields, printResult } from '../output.js';

/** `tiota enrollment …`: fleet enrollment tokens (admins). */
export function registerEnrollmentCommands(program: Command): void {
  const enrollment = program
    .command('enrollment')
    .description('fleet enrollment tokens: devices register themselves into a tag (admins)');

  withApiOptions(
    enrollment
      .command('create <name>')
      .description('create an enrollment token; prints it once')
      .requiredOption(
        '--tag <tags>',
        'tags every enrolled device gets, comma-separated or repeated',
        commaList,
      )
      .requiredOption('--max-uses <n>', 'how many devices may enroll with it')
      .option('--expires-in <duration>', '30m, 12h, 7d … at most 1y', '7d')
      .option('--profile <profile>', 'tijos or agent'),
  ).action(async (name: string, options) => {
    const maxUses = Number(options.maxUses);
    if (!Number.isInteger(maxUses) || maxUses < 1)
      throw new CliError('--max-uses must be a whole number ≥ 1');
    const expiresAt = expiryFrom(options.expiresIn, '--expires-in');
    if (expiresAt === null) throw new CliError('an enrollment token must expire');
    const body = {
      name,
      tags: options.tag as string[],
      maxUses,
      expiresAt,
      ...(options.profile && { profile: options.profile }),
    };
    const made = await clientFor(options).request<EnrollmentTokenView & { token: string }>(
      'POST',
      '/enrollment-tokens',
      body,
    );
    printFields(options.json, made);
  });

  withApiOptions(enrollment.command('list').description('list enrollment tokens')).action(
    async (options) => {
      const result = await clientFor(options).request<{ enrollmentTokens: EnrollmentTokenView[] }>(
        'GET',
        '/enrollment-tokens',
      );
      const rows = result.enrollmentTokens.map((t) => ({
        id: t.id,
        name: t.name,
        tags: t.tags,
        used: `${t.used}/${t.maxUses}`,
        expires: isoOrDash(t.expiresAt),
        state: t.revokedAt !== null ? 'revoked' : t.active ? 'active' : 'spent or expired',
      }));
      printResult(options.json, result, rows);
    },
  );

  withApiOptions(
    enrollment.command('revoke <id>').description('revoke an enrollment token'),
  ).action(async (id: string, options) => {
    const view = await clientFor(options).request<EnrollmentTokenView>(
      'DELETE',
      `/enrollment-tokens/${encodeURIComponent(id)}`,
    );
    printFields(options.json, view);
  });
}
