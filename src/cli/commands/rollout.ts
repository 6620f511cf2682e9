import type { Command } from 'commander';

// Placeholder until its issue lands: the command exists so `tiota --help` lists it.
export function registerRolloutCommands(program: Command): void {
  program.command('rollout').description('(not yet available)');
}
