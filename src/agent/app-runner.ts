import type { AppRecord } from './app-model.js';

export interface AppExit {
  readonly code: number | null;
  readonly signal: string | null;
}

/** An app the device started. */
export interface RunningApp {
  /** Settles when the app exits; never settles for an app that keeps running. */
  readonly exited: Promise<AppExit>;
  stop(): Promise<void>;
}

/**
 * How the device "runs" an app: the embedder's choice (docs/agent.md, "Running apps").
 * start() throws when the app cannot be started at all.
 */
export interface AppRunner {
  start(app: AppRecord, file: string | null): Promise<RunningApp>;
  /** Asked at the end of the health window; true when the app is healthy. */
  check?(app: AppRecord, file: string | null): Promise<boolean>;
}

const forever = new Promise<AppExit>(() => undefined);

/**
 * The default: nothing is executed, and an app counts as running once installed. For a
 * `.tapk` that is the whole truth on a Linux host (only TiJOS can run it), and the package
 * has already passed its CRC check by then.
 */
export const installedIsRunning: AppRunner = {
  start: async () => ({ exited: forever, stop: async () => undefined }),
};
