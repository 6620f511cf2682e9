/** The device agent, for embedding (docs/agent.md). */
export { silentLogger, type AgentLogger, type LogFn } from './agent-logger.js';
export { MAX_APPS, runningApp, type AgentState, type AppRecord } from './app-model.js';
export { installedIsRunning, type AppExit, type AppRunner, type RunningApp } from './app-runner.js';
export { DEFAULT_BACKOFF, backoffDelay, type BackoffPolicy } from './backoff.js';
export { CommandAppRunner, type CommandRunnerOptions } from './command-app-runner.js';
export { DeviceAgent } from './device-agent.js';
export {
  AGENT_NAME,
  type DeviceAgentEvents,
  type DeviceAgentOptions,
} from './device-agent-options.js';
export {
  CredentialsError,
  parseCredentials,
  readCredentials,
  type DeviceCredentials,
} from './device-credentials.js';
export { CONFIG_EXIT_CODE, REBOOT_EXIT_CODE, superviseDevice } from './device-supervisor.js';
export { formatOtaArgs, parseOtaArgs, type OtaArgs } from './ota-args.js';
export { OTA_REASONS, OtaFailure, type OtaReason } from './ota-reasons.js';
export { download, type ChunkShaper, type DownloadOptions } from './resumable-download.js';
export { signatureIsValid, verifyPackage } from './verify-package.js';
