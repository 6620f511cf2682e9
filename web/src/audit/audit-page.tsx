import { useState } from 'react';
import { useLoad } from '../api/use-load';
import { EmptyState } from '../ui/empty-state';
import { ErrorNotice } from '../ui/error-notice';
import { Loading } from '../ui/loading';
import { PageHeader } from '../ui/page-header';

interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  detail: Record<string, unknown>;
  ip: string | null;
}

/** The audit log: every mutating action with who, what, when and from where. */
export function AuditPage() {
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const { data, error, loading, reload } = useLoad(
    async (api) => {
      const query = new URLSearchParams({ limit: '200' });
      if (actor.trim()) query.set('actor', actor.trim());
      if (action.trim()) query.set('action', action.trim());
      return (await api.get<{ entries: AuditEntry[] }>(`/audit?${query}`)).entries;
    },
    [actor, action],
  );

  return (
    <>
      <PageHeader title="Audit log" subtitle="Who did what, when, and from where (newest first)" />
      <section className="card">
        <div className="filters">
          <label>
            Account <input value={actor} onChange={(e) => setActor(e.target.value)} />
          </label>
          <label>
            Action{' '}
            <input
              value={action}
              placeholder="e.g. rollout.pause"
              onChange={(e) => setAction(e.target.value)}
            />
          </label>
        </div>
        {error !== undefined && (
          <ErrorNotice error={error} title="Could not load the audit log" onRetry={reload} />
        )}
        {data && data.length === 0 && (
          <EmptyState title="No entries">Nothing matches these filters yet.</EmptyState>
        )}
        {data && data.length > 0 && <AuditTable entries={data} />}
        {!data && loading && <Loading what="the audit log" />}
      </section>
    </>
  );
}

function AuditTable({ entries }: { entries: AuditEntry[] }) {
  return (
    <div className="table-wrap">
      <table className="table">
        <thead>
          <tr>
            <th>When</th>
            <th>Account</th>
            <th>Action</th>
            <th>Target</th>
            <th>From</th>
            <th>Detail</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.id}>
              <td>{new Date(e.at).toLocaleString()}</td>
              <td>{e.actor}</td>
              <td>
                <code>{e.action}</code>
              </td>
              <td>{e.target}</td>
              <td>{e.ip ?? '—'}</td>
              <td className="muted">{JSON.stringify(e.detail)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
