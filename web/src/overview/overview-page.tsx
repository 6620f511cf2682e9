import { useLoad } from '../api/use-load';
import { formatCount, formatPercent } from '../format/format';
import { EmptyState } from '../ui/empty-state';
import { ErrorNotice } from '../ui/error-notice';
import { Loading } from '../ui/loading';
import { PageHeader } from '../ui/page-header';
import { ActiveRollouts } from './active-rollouts';
import { loadOverview } from './load-overview';
import { RecentFailures } from './recent-failures';
import { StatCard } from './stat-card';
import { VersionsChart } from './versions-chart';

export function OverviewPage() {
  const { data, error, loading, reload } = useLoad(loadOverview, []);

  return (
    <>
      <PageHeader
        title="Overview"
        actions={
          <button type="button" className="button" onClick={reload} disabled={loading}>
            Refresh
          </button>
        }
      />
      {error !== undefined && (
        <ErrorNotice error={error} title="Could not load the overview" onRetry={reload} />
      )}
      {!data ? (
        loading && <Loading what="the fleet" />
      ) : data.fleet === 0 ? (
        <EmptyState title="No devices yet">
          Register devices with <code>tiota device add &lt;id&gt;</code> or{' '}
          <code>POST /api/v1/devices</code>; they appear here once registered, and come online when
          they connect over MQTT.
        </EmptyState>
      ) : (
        <>
          <section className="stats" aria-label="Fleet">
            <StatCard label="Devices" value={formatCount(data.fleet)} href="#/devices" />
            <StatCard
              label="Online now"
              value={formatCount(data.online)}
              detail={formatPercent(data.online, data.fleet)}
              href="#/devices?online=true"
            />
            <StatCard
              label="Rollouts in progress"
              value={formatCount(data.active.length)}
              href="#/rollouts"
            />
            <StatCard
              label="Recent failures"
              value={formatCount(data.failures.length)}
              tone={data.failures.length ? 'bad' : undefined}
            />
          </section>
          <div className="grid-2">
            <section className="card">
              <h2>Versions in the field</h2>
              <VersionsChart shares={data.versions} />
              {data.counted < data.fleet && (
                <p className="muted small">
                  Counted over the first {formatCount(data.counted)} of {formatCount(data.fleet)}{' '}
                  devices.
                </p>
              )}
            </section>
            <section className="card">
              <h2>Rollouts in progress</h2>
              <ActiveRollouts rollouts={data.active} />
            </section>
          </div>
          <section className="card">
            <h2>Recent failures</h2>
            <RecentFailures failures={data.failures} />
          </section>
        </>
      )}
    </>
  );
}
