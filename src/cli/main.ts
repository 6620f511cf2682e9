import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { registerAccountCommands } from './commands/account.js';
import { registerAgentCommand } from './commands/agent.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerDeviceCommands } from './commands/device.js';
import { registerEnrollmentCommands } from './commands/enrollment.js';
import { registerKeysCommands } from './commands/keys.js';
import { registerPackageCommands } from './commands/package.js';
import { registerRolloutCommands } from './commands/rollout.js';
import { registerServerCommand } from './commands/server.js';
import { registerSimulateCommand } from './commands/simulate.js';
import { registerTokenCommands } from './commands/token.js';
import { printable } from './output.js';

const program = new Command('tiota')
  .description('Over-the-air updates for IoT fleets (TiJOS and Linux devices)')
  .version(packageVersion(), '-V', 'print the Tiota version')
  .showHelpAfterError();

// `tiota … | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

registerServerCommand(program);
registerPackageCommands(program);
registerDeviceCommands(program);
registerRolloutCommands(program);
registerAuditCommands(program);
registerAccountCommands(program);
registerTokenCommands(program);
registerEnrollmentCommands(program);
registerKeysCommands(program);
registerAgentCommand(program);
registerSimulateCommand(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  // Commands throw CliError with a message meant for people; anything else is a bug.
  const message = error instanceof Error ? error.message : String(error);
  // A failed command has nothing left to do: exit even if a half-started part (a timer, a
  // pool) would keep the process alive.
  // Server messages may echo what was asked for (a device id), control characters included.
  process.stderr.write(`tiota: ${printable(message)}\n`, () => process.exit(process.exitCode || 1));
});

function packageVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
