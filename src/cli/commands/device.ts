import type { Command } from 'commander';

export function registerDeviceCommands(program: Command): void {
  program.command('device').description('(being built)');
}
