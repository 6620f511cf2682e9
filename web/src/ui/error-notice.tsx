import { ApiError, describeError } from '../api/api-error';

interface Props {
  error: unknown;
  /** What was being done, e.g. "Could not load the devices". */
  title?: string;
  onRetry?: () => void;
}

/** A failed call, said plainly, with the API's error code and request id for support. */
export function ErrorNotice({ error, title, onRetry }: Props) {
  const api = error instanceof ApiError ? error : null;
  return (
    <div className="notice notice--error" role="alert">
      <div>
        {title && <strong>{title}: </strong>}
        {describeError(error)}
        {api && api.status > 0 && (
          <span className="muted">
            {' '}
            ({api.code}
            {api.requestId ? `, request ${api.requestId}` : ''})
          </span>
        )}
      </div>
      {onRetry && (
        <button type="button" className="button button--small" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}
