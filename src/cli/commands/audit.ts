import type { Command } from 'commander';

// Placeholder until its issue lands: the command exists so `tiota --help` lists it.
export function registerAuditCommands(program: Command): void {
  program.command('audit').description('(not yet available)');
}
