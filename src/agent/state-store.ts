import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { initialState, type AgentState } from './app-model.js';
import { writeFileAtomic } from './atomic-write.js';

export const STATE_FILE = 'state.json';
export const APPS_DIR = 'apps';
export const DOWNLOAD_DIR = 'download';

/**
 * The agent's data folder. Every change goes through update(), which writes the whole state
 * atomically before it resolves, so what is on disk after a power cut is always a state the
 * agent passed through. Updates are serialised: two renames never race.
 */
export class StateStore {
  #state: AgentState;
  #queue: Promise<void> = Promise.resolve();

  private constructor(
    readonly dataDir: string,
    state: AgentState,
  ) {
    this.#state = state;
  }

  /**
   * Loads the state, or provisions a new device with `initialApp` when the folder holds none.
   * A state file that cannot be read is an error, never a silent reset: resetting would forget
   * which app is installed.
   */
  static async open(
    dataDir: string,
    initialApp?: { name: string; version: string },
  ): Promise<StateStore> {
    await mkdir(path.join(dataDir, APPS_DIR), { recursive: true });
    await mkdir(path.join(dataDir, DOWNLOAD_DIR), { recursive: true });
    const file = path.join(dataDir, STATE_FILE);
    let text: string | null = null;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text === null) {
      if (!initialApp) {
        throw new Error(`${dataDir} holds no agent state: give the initial app name and version`);
      }
      const store = new StateStore(dataDir, initialState(initialApp));
      await store.update(() => undefined);
      return store;
    }
    const state = JSON.parse(text) as AgentState;
    if (state.v !== 1 || !Array.isArray(state.apps)) {
      throw new Error(`${file} is not an agent state file (v: 1)`);
    }
    return new StateStore(dataDir, state);
  }

  get state(): Readonly<AgentState> {
    return this.#state;
  }

  resolve(relative: string): string {
    return path.join(this.dataDir, relative);
  }

  /** Applies `mutate` to a copy and makes it the state once it is on disk. */
  update(mutate: (state: AgentState) => void): Promise<void> {
    const run = async (): Promise<void> => {
      const next = structuredClone(this.#state);
      mutate(next);
      await writeFileAtomic(this.resolve(STATE_FILE), JSON.stringify(next, null, 1));
      this.#state = next;
    };
    const result = this.#queue.then(run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Deletes package and download files no state refers to (left by a power cut). */
  async collectGarbage(): Promise<string[]> {
    const keep = new Set<string>();
    for (const app of this.#state.apps) if (app.file) keep.add(app.file);
    if (this.#state.job) keep.add(this.#state.job.partFile);
    const removed: string[] = [];
    for (const dir of [APPS_DIR, DOWNLOAD_DIR]) {
      for (const name of await readdir(this.resolve(dir))) {
        const relative = path.posix.join(dir, name);
        if (keep.has(relative)) continue;
        await unlink(this.resolve(relative)).catch(() => undefined);
        removed.push(relative);
      }
    }
    return removed;
  }
}
