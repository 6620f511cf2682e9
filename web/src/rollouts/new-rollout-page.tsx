import { useState } from 'react';
import { useApi } from '../api/api-context';
import { useLoad } from '../api/use-load';
import type { PackageView, RolloutView } from '../api/types';
import { navigate } from '../router/hash-route';
import { EmptyState } from '../ui/empty-state';
import { ErrorNotice } from '../ui/error-notice';
import { Loading } from '../ui/loading';
import { PageHeader } from '../ui/page-header';
import { PlanPreview } from './plan-preview';
import { EMPTY_DRAFT, toBody, type RolloutDraft } from './rollout-draft';
import { SettingsFields } from './settings-fields';
import { TargetFields } from './target-fields';
import { useDryRun } from './use-dry-run';

/**
 * Creating a rollout: choose the package and the devices, adjust the settings, read the plan
 * the engine would follow (dry run), then start exactly that.
 */
export function NewRolloutPage({ initialPackageId }: { initialPackageId: string | null }) {
  const api = useApi();
  const packages = useLoad((client) => client.get<{ packages: PackageView[] }>('/packages'), []);
  const [draft, setDraft] = useState<RolloutDraft>({
    ...EMPTY_DRAFT,
    packageId: initialPackageId ?? '',
  });
  const [starting, setStarting] = useState(false);
  const [startError, setStartError] = useState<unknown>(null);
  const body = toBody(draft);
  const dryRun = useDryRun(body);
  const ready = body !== null && dryRun.planned === JSON.stringify(body) && !dryRun.pending;
  const pkg = packages.data?.packages.find((p) => String(p.id) === draft.packageId);

  const start = async () => {
    if (!ready || !dryRun.planned) return;
    setStarting(true);
    setStartError(null);
    try {
      const rollout = await api.post<RolloutView>('/rollouts', JSON.parse(dryRun.planned));
      navigate(`#/rollouts/${rollout.id}`);
    } catch (failure) {
      setStartError(failure);
      setStarting(false);
    }
  };

  if (!packages.data) {
    return (
      <>
        <PageHeader title="New rollout" />
        {packages.error !== undefined && (
          <ErrorNotice error={packages.error} onRetry={packages.reload} />
        )}
        {packages.loading && <Loading what="packages" />}
      </>
    );
  }
  if (packages.data.packages.length === 0) {
    return (
      <>
        <PageHeader title="New rollout" />
        <EmptyState title="There is no package to roll out">
          <a href="#/packages">Upload a package</a> first.
        </EmptyState>
      </>
    );
  }

  return (
    <>
      <p className="crumbs">
        <a href="#/rollouts">Rollouts</a> /
      </p>
      <PageHeader
        title="New rollout"
        subtitle="Nothing is sent to a device until you press Start."
      />
      <div className="grid-side grid-side--wide">
        <form className="card form" aria-label="Rollout" onSubmit={(e) => e.preventDefault()}>
          <label className="form__field">
            <span>Package</span>
            <select
              name="package"
              required
              value={draft.packageId}
              onChange={(e) => setDraft({ ...draft, packageId: e.target.value })}
            >
              <option value="">Choose a package…</option>
              {packages.data.packages.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.app} {p.version}
                </option>
              ))}
            </select>
          </label>
          <label className="form__field">
            <span>Name (optional)</span>
            <input
              name="name"
              placeholder={pkg ? `${pkg.app} ${pkg.version}` : ''}
              value={draft.name}
              onChange={(e) => setDraft({ ...draft, name: e.target.value })}
            />
          </label>
          <TargetFields draft={draft} pkg={pkg} onChange={setDraft} />
          <SettingsFields
            defaults={dryRun.plan?.settings ?? null}
            changed={draft.settings}
            onChange={(settings) => setDraft({ ...draft, settings })}
          />
        </form>
        <section className="card plan" aria-label="Plan" aria-busy={dryRun.pending}>
          <h2>Plan</h2>
          {body === null ? (
            <p className="muted">Choose a package and which devices get it to see the plan.</p>
          ) : dryRun.error ? (
            <ErrorNotice error={dryRun.error} title="The engine cannot plan this rollout" />
          ) : dryRun.plan ? (
            <PlanPreview plan={dryRun.plan} stale={!ready} />
          ) : (
            <Loading what="the plan" />
          )}
          {startError !== null && (
            <ErrorNotice error={startError} title="The rollout did not start" />
          )}
          <button
            type="button"
            className="button button--primary button--wide"
            disabled={!ready || starting}
            onClick={start}
          >
            {starting ? 'Starting…' : 'Start rollout'}
          </button>
        </section>
      </div>
    </>
  );
}
