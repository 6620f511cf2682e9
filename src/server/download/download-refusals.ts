import type { TokenRefusal } from '../../shared/token/download-token.js';

/**
 * Every way the download path can say no, with a permanent code (stored in logs and metrics,
 * shown to clients in `{"error":{"code":…,"message":…}}`) and its HTTP status. Codes never
 * change meaning. Bodies are built once: a refusal costs no allocation.
 */
export const DOWNLOAD_REFUSALS = {
  token_malformed: { status: 403, message: 'the download URL is not a Tiota download URL' },
  token_unknown_key: {
    status: 403,
    message: 'the download URL was signed with a key this server no longer keeps',
  },
  token_tampered: { status: 403, message: 'the download URL signature does not match' },
  token_expired: { status: 403, message: 'the download URL has expired' },
  token_not_yet_valid: { status: 403, message: 'the download URL is not valid yet' },
  device_revoked: { status: 403, message: 'the device this URL was issued to is revoked' },
  package_not_found: { status: 404, message: 'the package of this URL no longer exists' },
  not_found: { status: 404, message: 'no such download' },
  method_not_allowed: { status: 405, message: 'downloads answer GET and HEAD only' },
  precondition_failed: { status: 412, message: 'If-Match does not match the artifact' },
  range_not_satisfiable: { status: 416, message: 'the requested range is beyond the artifact' },
  internal: { status: 500, message: 'internal error' },
  overloaded: { status: 503, message: 'too many downloads in progress; retry later' },
} as const satisfies Record<string, { status: number; message: string }>;

export type DownloadRefusal = keyof typeof DOWNLOAD_REFUSALS;

export const TOKEN_REFUSAL_CODES: Readonly<Record<TokenRefusal, DownloadRefusal>> = {
  malformed: 'token_malformed',
  unknown_key: 'token_unknown_key',
  tampered: 'token_tampered',
  expired: 'token_expired',
  not_yet_valid: 'token_not_yet_valid',
};

const BODIES = new Map<DownloadRefusal, Buffer>(
  Object.entries(DOWNLOAD_REFUSALS).map(([code, { message }]) => [
    code as DownloadRefusal,
    Buffer.from(JSON.stringify({ error: { code, message } })),
  ]),
);

/** The JSON body of a refusal, built once. */
export function refusalBody(code: DownloadRefusal): Buffer {
  return BODIES.get(code)!;
}

/** Headers every refusal carries besides its length and the status's own. */
export const REFUSAL_HEADERS = Object.freeze({
  'Content-Type': 'application/json; charset=utf-8',
  'Cache-Control': 'no-store',
});
