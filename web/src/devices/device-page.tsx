import { useState } from 'react';
import { useApi } from '../api/api-context';
import { useLoad } from '../api/use-load';
import type { DeviceWithHistory } from '../api/types';
import { formatAgo, formatDate } from '../format/format';
import { href } from '../router/hash-route';
import { ErrorNotice } from '../ui/error-notice';
import { FieldList } from '../ui/field-list';
import { FieldRow } from '../ui/field-row';
import { Loading } from '../ui/loading';
import { PageHeader } from '../ui/page-header';
import { DeviceTimeline } from './device-timeline';
import { OnlineDot } from './online-dot';

const SHOWN = [
  'id',
  'tags',
  'profile',
  'app',
  'version',
  'appId',
  'online',
  'lastSeenAt',
  'createdAt',
  'revoked',
  'history',
];

export function DevicePage({ id }: { id: string }) {
  const api = useApi();
  const [actionError, setActionError] = useState<unknown>(null);
  const { data, error, loading, reload } = useLoad(
    (client) => client.get<DeviceWithHistory>(`/devices/${encodeURIComponent(id)}`),
    [id],
  );

  const revoke = async () => {
    if (
      !window.confirm(`Revoke ${id}? It can no longer connect or download until registered again.`)
    )
      return;
    try {
      await api.post(`/devices/${encodeURIComponent(id)}/revoke`);
      reload();
    } catch (failure) {
      setActionError(failure);
    }
  };

  return (
    <>
      <p className="crumbs">
        <a href="#/devices">Devices</a> /
      </p>
      <PageHeader
        title={
          <>
            {data && <OnlineDot online={data.online} />}
            {id}
          </>
        }
        subtitle={
          data && (data.online ? 'online now' : `offline · last seen ${formatAgo(data.lastSeenAt)}`)
        }
        actions={
          <>
            <button type="button" className="button" onClick={reload} disabled={loading}>
              Refresh
            </button>
            {data && !data.revoked && (
              <button type="button" className="button button--danger" onClick={revoke}>
                Revoke
              </button>
            )}
          </>
        }
      />
      {error !== undefined && (
        <ErrorNotice error={error} title="Could not load the device" onRetry={reload} />
      )}
      {actionError !== null && (
        <ErrorNotice error={actionError} title="Could not revoke the device" />
      )}
      {!data ? (
        loading && <Loading what="the device" />
      ) : (
        <div className="grid-side">
          <section className="card">
            <h2>Device</h2>
            <dl className="fields">
              <FieldRow label="Running">
                {data.app ? `${data.app} ${data.version ?? ''}` : 'not connected yet'}
              </FieldRow>
              <FieldRow label="App id">{data.appId ?? '—'}</FieldRow>
              <FieldRow label="Profile">{data.profile ?? '—'}</FieldRow>
              <FieldRow label="Tags">
                {data.tags.length
                  ? data.tags.map((t) => (
                      <a key={t} className="tag" href={href(['devices'], { tag: t })}>
                        {t}
                      </a>
                    ))
                  : '—'}
              </FieldRow>
              <FieldRow label="Last seen">{formatDate(data.lastSeenAt)}</FieldRow>
              <FieldRow label="Registered">{formatDate(data.createdAt)}</FieldRow>
              {data.revoked && <FieldRow label="Revoked">yes</FieldRow>}
            </dl>
            <FieldList fields={data} skip={SHOWN} />
          </section>
          <section className="card">
            <h2>History</h2>
            <DeviceTimeline events={data.history} />
          </section>
        </div>
      )}
    </>
  );
}
