import type { Command } from 'commander';

// Placeholder until its issue lands: the command exists so `tiota --help` lists it.
export function registerAgentCommand(program: Command): void {
  program.command('agent').description('(not yet available)');
}
