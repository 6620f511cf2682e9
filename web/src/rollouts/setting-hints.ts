/**
 * What the engine's settings mean (docs/rollouts.md). The form is built from the settings the
 * server reports, so a setting missing here still appears, with its name only.
 */
export const SETTING_HINTS: Record<string, string> = {
  canary: 'first batch, alone: devices (5) or a share ("10%"); 0 = none',
  batchStrategy: 'how the batches after the canary grow',
  batchSize: 'fixed: devices per batch; exponential: the first batch; 0 = all the rest at once',
  batchPercent: 'percentage strategy: share of the target per batch',
  growthFactor: 'exponential strategy: each batch is this many times the last',
  maxBatchSize: 'largest batch; 0 = no limit',
  soakSeconds: 'wait after a batch passes, before the next starts',
  maxConcurrentDownloads: 'devices downloading at once; 0 = as many as pacing allows',
  jitterSeconds: 'random delay of up to this before each command',
  ackTimeoutSeconds: 'for a device to start on its command',
  downloadTimeoutSeconds: 'from the start of the download to its end',
  confirmTimeoutSeconds: 'from the end of the download to the report of the new version',
  maxRetries: 'further attempts after a failure or a timeout',
  retryBackoffSeconds: 'before the first retry; doubles with each attempt',
  errorThreshold: 'pause at this many errors (3) or share ("10%") in a batch; "none" = never',
  errorMinFinished: 'the error threshold applies once this many devices finished',
  successThreshold: 'percent of a batch that must succeed',
  afterBatch: 'advance to the next batch, or pause for approval',
};

/** Settings whose values form a closed list. */
export const SETTING_CHOICES: Record<string, readonly string[]> = {
  batchStrategy: ['exponential', 'fixed', 'percentage'],
  afterBatch: ['advance', 'pause'],
};

/** Shown first; every other setting sits under "More settings". */
export const PRIMARY_SETTINGS: readonly string[] = [
  'canary',
  'batchStrategy',
  'batchSize',
  'soakSeconds',
  'errorThreshold',
  'afterBatch',
];
