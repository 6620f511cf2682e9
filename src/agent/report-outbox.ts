import type { StatusMessage } from '../shared/protocol/index.js';
import type { AgentLogger } from './agent-logger.js';
import type { AgentState } from './app-model.js';
import type { StateStore } from './state-store.js';

/** Longest `detail` the server accepts (src/shared/protocol parseStatus). */
const MAX_DETAIL = 512;

export interface ReportSink {
  readonly connected: boolean;
  publish(payload: string): Promise<void>;
}

/**
 * Status reports. Final ones (a command's outcome, and `restarting`) are written to the state
 * before they are sent and removed only on PUBACK, so an outcome survives a restart or a
 * broker that refuses the connection; progress reports are sent when connected and otherwise
 * dropped (the next final report supersedes them).
 */
export class ReportOutbox {
  #flushing: Promise<void> | null = null;

  constructor(
    private readonly store: StateStore,
    private readonly sink: () => ReportSink | null,
    private readonly log: AgentLogger,
    private readonly onSent: (report: StatusMessage) => void,
  ) {}

  /** Queues a final report (with `also` applied in the same atomic update) and sends it. */
  async final(report: StatusMessage, also?: (state: AgentState) => void): Promise<void> {
    await this.store.update((s) => {
      also?.(s);
      enqueueReport(s, report);
    });
    this.log.info({ report }, 'report queued');
    void this.flush();
  }

  /** Settles when no flush is running (a stop waits for it, so a sent report is not resent). */
  async idle(): Promise<void> {
    await this.#flushing;
  }

  /** Sends a progress report if connected; resolves on PUBACK, or false after `waitMs`. */
  async progress(report: StatusMessage, waitMs = 0): Promise<boolean> {
    const sink = this.sink();
    if (!sink?.connected) return false;
    const clean = tidy(report);
    const sent = sink.publish(JSON.stringify(clean)).then(
      () => {
        this.onSent(clean);
        return true;
      },
      () => false,
    );
    if (waitMs <= 0) return false;
    return Promise.race([sent, new Promise<boolean>((r) => setTimeout(() => r(false), waitMs))]);
  }

  /** Sends queued reports in order; stops at the first that is not acknowledged. */
  flush(): Promise<void> {
    this.#flushing ??= this.#drain()
      .catch((error: unknown) => {
        // The state could not be written (the folder is gone or full): the report is kept.
        this.log.error({ err: String(error) }, 'report outbox update failed');
      })
      .finally(() => {
        this.#flushing = null;
      });
    return this.#flushing;
  }

  async #drain(): Promise<void> {
    for (;;) {
      const sink = this.sink();
      const next = this.store.state.outbox[0];
      if (!next || !sink?.connected) return;
      try {
        await sink.publish(JSON.stringify(next));
      } catch (error) {
        this.log.info({ err: String(error), cmd: next.cmd }, 'report not acknowledged: kept');
        return;
      }
      await this.store.update((s) => {
        s.outbox = s.outbox.slice(1);
      });
      this.onSent(next);
    }
  }
}

/**
 * Puts a final report into a state being updated, so that the change it reports and the
 * report itself reach the disk in one write.
 */
export function enqueueReport(state: AgentState, report: StatusMessage): void {
  const clean = tidy(report);
  state.outbox.push(clean);
  if (isOutcome(clean)) {
    state.last = { cmd: clean.cmd, state: clean.state, code: clean.code, reason: clean.reason };
  }
}

function isOutcome(report: StatusMessage): boolean {
  return report.state !== 'restarting' && report.state !== 'rejected';
}

function tidy(report: StatusMessage): StatusMessage {
  const entries = Object.entries(report).filter(([, v]) => v !== undefined);
  const out = Object.fromEntries(entries) as Record<string, unknown>;
  if (typeof out.detail === 'string' && out.detail.length > MAX_DETAIL) {
    out.detail = out.detail.slice(0, MAX_DETAIL - 1) + '…';
  }
  return out as unknown as StatusMessage;
}
