/**
 * The logger the agent writes to, chosen by whoever embeds it (the CLI passes pino, the
 * simulator a child per device, tests a silent one). pino's Logger satisfies it as is.
 */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

export interface AgentLogger {
  readonly debug: LogFn;
  readonly info: LogFn;
  readonly warn: LogFn;
  readonly error: LogFn;
  child(bindings: Record<string, unknown>): AgentLogger;
}

const noop: LogFn = () => undefined;

/** For embedders that want no output at all. */
export const silentLogger: AgentLogger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};
