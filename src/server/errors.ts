/**
 * The one catalogue of API errors: each has a permanent code, an HTTP status and a message
 * template. Errors become responses in one place (http/error-handler.ts); docs/api-errors.md
 * lists every code (test/security/error-catalogue.test.ts checks the two agree). Codes never
 * change meaning once released; clients branch on them, not on messages.
 */
export const ERRORS = {
  bad_request: { status: 400, message: 'the request is malformed: %s' },
  validation_failed: { status: 400, message: 'invalid input: %s' },
  unauthorized: { status: 401, message: 'a valid bearer token is required' },
  invalid_credentials: { status: 401, message: 'wrong username or password' },
  forbidden: { status: 403, message: 'your role (%s) may not do this' },
  wrong_password: { status: 403, message: 'the current password is wrong' },
  enrollment_refused: {
    status: 403,
    message: 'the enrollment token is unknown, expired, revoked or used up',
  },
  not_found: { status: 404, message: '%s not found' },
  conflict: { status: 409, message: '%s' },
  payload_too_large: { status: 413, message: 'the upload exceeds the limit of %s bytes' },
  unsupported_media_type: { status: 415, message: '%s' },
  tapk_invalid: { status: 422, message: '%s' },
  digest_mismatch: { status: 422, message: 'the declared %s does not match the uploaded bytes' },
  package_in_use: { status: 409, message: 'package %s is in use: %s' },
  device_exists: { status: 409, message: 'device %s is already registered' },
  package_exists: { status: 409, message: 'package %s is already uploaded' },
  account_exists: { status: 409, message: 'account %s already exists' },
  last_admin: { status: 409, message: 'account %s is the last enabled admin' },
  key_exists: { status: 409, message: 'signing key %s is already known' },
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
  /** Response headers the error implies (`Retry-After` on 429). */
  readonly headers: Record<string, string> = {};

  constructor(
    readonly code: ErrorCode,
    ...args: string[]
  ) {
    let i = 0;
    super(ERRORS[code].message.replace(/%s/g, () => args[i++] ?? ''));
    this.status = ERRORS[code].status;
  }

  /** A 429 that tells the client when to come back (RFC 9110 §10.2.3). */
  static tooManyRequests(retryAfterSeconds: number): TiotaError {
    const error = new TiotaError('too_many_requests', String(retryAfterSeconds));
    error.headers['retry-after'] = String(retryAfterSeconds);
    return error;
  }
}
