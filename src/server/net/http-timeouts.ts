/**
 * Timeouts of the HTTP port, the same whether a connection is served by the download front
 * (src/server/download/front-server.ts) or handed to Node's HTTP server behind it.
 */

/** Time allowed to receive one request head, ms. Node's own default is 60 s. */
export const HEADERS_TIMEOUT_MS = 20_000;

/** Idle time allowed on a kept-alive connection between requests, ms (Node's default). */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/**
 * How often Node's HTTP server checks its connections' head timeouts, ms. Its default, 30 s,
 * would let a slow head live up to 50 s instead of 20.
 */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
