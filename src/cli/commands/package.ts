import type { Command } from 'commander';

export function registerPackageCommands(program: Command): void {
  program.command('package').description('(being built)');
}
