/** An error the API answered with (`{"error":{"code","message","requestId"}}`) or a failed call. */
export class ApiError extends Error {
  override name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
  }

  /** Builds the error from a response body that may or may not be the API's error shape. */
  static fromBody(status: number, body: unknown): ApiError {
    const error = (body as { error?: { code?: string; message?: string; requestId?: string } })
      ?.error;
    if (error?.message)
      return new ApiError(status, error.code ?? 'error', error.message, error.requestId);
    return new ApiError(status, 'http_' + status, `the server answered ${status}`);
  }

  static network(): ApiError {
    return new ApiError(0, 'network', 'cannot reach the server; check the connection and retry');
  }
}

/** A sentence for any thrown value, for error notices. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
