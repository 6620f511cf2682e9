/** The fleet simulator (docs/simulator.md). */
export { AgentDevice, type AgentSimOptions } from './agent-device.js';
export { SIM_STATES, type DeviceOutcome, type SimDevice, type SimState } from './device-outcome.js';
export {
  NO_FAULTS,
  drawFaults,
  parseLinkSpeed,
  type DeviceFaults,
  type FaultSettings,
} from './fault-plan.js';
export { Fleet, PROFILES, type FleetOptions, type Profile } from './fleet.js';
export {
  downloadTimes,
  formatSummary,
  summarize,
  type DownloadTimes,
  type FleetSummary,
} from './fleet-summary.js';
export { seededRandom, type Random } from './seeded-random.js';
export { SimulatedLink } from './simulated-link.js';
export { TijosDevice, type SimDeviceOptions, type TijosOptions } from './tijos-device.js';
export { TIJOS_OTA_TIMEOUT_MS, runTijosOta, type TijosOtaResult } from './tijos-ota-app.js';
export {
  RegistrationError,
  deviceIds,
  registerDevices,
  type RegistrationOptions,
} from './device-registry.js';
export {
  compareWithServer,
  fetchRollout,
  waitForRollout,
  type CountComparison,
  type RolloutCounts,
} from './rollout-watch.js';
