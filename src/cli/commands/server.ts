import type { Command } from 'commander';

export function registerServerCommand(program: Command): void {
  program.command('server').description('(being built)');
}
