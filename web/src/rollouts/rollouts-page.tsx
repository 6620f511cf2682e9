import { useState } from 'react';
import { useLoad } from '../api/use-load';
import type { RolloutView } from '../api/types';
import { ErrorNotice } from '../ui/error-notice';
import { Loading } from '../ui/loading';
import { PageHeader } from '../ui/page-header';
import { RolloutTable } from './rollout-table';

const STATUSES = ['', 'running', 'paused', 'completed', 'canceled'];

export function RolloutsPage() {
  const [status, setStatus] = useState('');
  const { data, error, loading, reload } = useLoad(
    (api) => api.get<{ rollouts: RolloutView[] }>('/rollouts', { status: status || undefined }),
    [status],
  );

  return (
    <>
      <PageHeader
        title="Rollouts"
        actions={
          <>
            <select aria-label="Status" value={status} onChange={(e) => setStatus(e.target.value)}>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s ? s.charAt(0).toUpperCase() + s.slice(1) : 'All rollouts'}
                </option>
              ))}
            </select>
            <button type="button" className="button" onClick={reload} disabled={loading}>
              Refresh
            </button>
            <a className="button button--primary" href="#/rollouts/new">
              New rollout
            </a>
          </>
        }
      />
      {error !== undefined && (
        <ErrorNotice error={error} title="Could not load the rollouts" onRetry={reload} />
      )}
      <section className="card card--flush">
        {data ? (
          <RolloutTable rollouts={data.rollouts} filtered={status !== ''} />
        ) : (
          loading && <Loading what="rollouts" />
        )}
      </section>
    </>
  );
}
