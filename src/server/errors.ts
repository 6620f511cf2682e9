/**
 * The one catalogue of API errors: each has a permanent code, an HTTP status and a message
 * template. Errors become responses in one place (http/error-handler.ts); docs/api-errors.md
 * lists every code (a test checks the two agree).
 */
export const ERRORS = {
  bad_request: { status: 400, message: 'the request is malformed: %s' },
  validation_failed: { status: 400, message: 'invalid input: %s' },
  unauthorized: { status: 401, message: 'a valid bearer token is required' },
  forbidden: { status: 403, message: 'your role (%s) may not do this' },
  not_found: { status: 404, message: '%s not found' },
  conflict: { status: 409, message: '%s' },
  payload_too_large: { status: 413, message: 'the upload exceeds the limit of %s bytes' },
  unsupported_media_type: { status: 415, message: '%s' },
  tapk_invalid: { status: 422, message: '%s' },
  digest_mismatch: { status: 422, message: 'the declared %s does not match the uploaded bytes' },
  package_in_use: { status: 409, message: 'package %s is used by an active rollout' },
  device_exists: { status: 409, message: 'device %s is already registered' },
  package_exists: { status: 409, message: 'package %s is already uploaded' },
  no_devices: { status: 422, message: 'the rollout targets no device: %s' },
  url_too_long: { status: 422, message: '%s' },
  invalid_state: { status: 409, message: '%s' },
  too_many_requests: { status: 429, message: 'too many attempts; try again in %s seconds' },
  internal: { status: 500, message: 'internal error (request %s)' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class TiotaError extends Error {
  override name = 'TiotaError';
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    ...args: string[]
  ) {
    let i = 0;
    super(ERRORS[code].message.replace(/%s/g, () => args[i++] ?? ''));
    this.status = ERRORS[code].status;
  }
}
