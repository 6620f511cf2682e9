import { useState } from 'react';
import { ERROR_STATES } from '../ui/action-states';
import { EmptyState } from '../ui/empty-state';
import { Loading } from '../ui/loading';
import { PageHeader } from '../ui/page-header';
import { StateBadge } from '../ui/state-badge';
import { BatchProgress } from './batch-progress';
import { ErrorGroups } from './error-groups';
import { LiveIndicator } from './live-indicator';
import { RolloutControls } from './rollout-controls';
import { RolloutDetails } from './rollout-details';
import { RolloutDevices } from './rollout-devices';
import { RolloutSummary } from './rollout-summary';
import { StateCounts } from './state-counts';
import { useRolloutActions } from './use-rollout-actions';
import { useRolloutStream } from './use-rollout-stream';

/** Listing every device in the browser stops at this size; beyond it, pick a state first. */
const LIST_ALL_UP_TO = 1000;

/** One rollout, live: the server pushes each change (server-sent events). */
export function RolloutPage({ id }: { id: number }) {
  const { view, state, fatal, setView } = useRolloutStream(id);
  const [filter, setFilter] = useState<string | null>(null);

  const counts = view?.counts ?? {};
  const total = Object.values(counts).reduce((n, c) => n + c, 0);
  const errorStates = ERROR_STATES.filter((s) => (counts[s] ?? 0) > 0);
  const errors = useRolloutActions(
    id,
    errorStates,
    JSON.stringify(errorStates.map((s) => counts[s])),
  );
  const listStates = filter ? [filter] : total <= LIST_ALL_UP_TO ? null : [];
  const devices = useRolloutActions(id, listStates, JSON.stringify(counts));

  if (!view) {
    return (
      <>
        <PageHeader title={`Rollout ${id}`} />
        {fatal === 404 ? (
          <EmptyState title={`There is no rollout ${id}`}>
            <a href="#/rollouts">See all rollouts</a>
          </EmptyState>
        ) : fatal ? (
          <EmptyState title="The server refused to show this rollout" />
        ) : (
          <Loading what="the rollout" />
        )}
      </>
    );
  }

  return (
    <>
      <p className="crumbs">
        <a href="#/rollouts">Rollouts</a> /
      </p>
      <PageHeader
        title={
          <>
            #{view.id} {view.name} <StateBadge state={view.status} />
          </>
        }
        subtitle={<LiveIndicator state={state} />}
        actions={<RolloutControls rollout={view} onChanged={setView} />}
      />
      {view.pauseReason && view.status === 'paused' && (
        <p className="notice notice--info" role="status">
          Paused: {view.pauseReason}
        </p>
      )}
      <RolloutSummary rollout={view} />
      <section className="card">
        <h2>Devices per state</h2>
        <StateCounts counts={counts} selected={filter} onSelect={setFilter} />
      </section>
      <div className="grid-2">
        <section className="card">
          <h2>Batches</h2>
          <BatchProgress rollout={view} />
        </section>
        <section className="card">
          <h2>Errors by reason</h2>
          <ErrorGroups actions={errors.actions} error={errors.error} />
        </section>
      </div>
      <section className="card card--flush">
        <h2 className="card__title">
          {filter ? `Devices: ${filter.replace(/_/g, ' ')}` : 'Devices'}
        </h2>
        <RolloutDevices
          actions={devices.actions}
          error={devices.error}
          mustPick={listStates !== null && listStates.length === 0}
        />
      </section>
      <RolloutDetails rollout={view} />
    </>
  );
}
