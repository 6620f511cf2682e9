import type { Command } from 'commander';

// Placeholder until its issue lands: the command exists so `tiota --help` lists it.
export function registerSimulateCommand(program: Command): void {
  program.command('simulate').description('(not yet available)');
}
