import { useState } from 'react';
import { useApi } from '../api/api-context';
import { useLoad } from '../api/use-load';
import type { PackageView, RolloutView } from '../api/types';
import { navigate } from '../router/hash-route';
import { ErrorNotice } from '../ui/error-notice';
import { Loading } from '../ui/loading';
import { PageHeader } from '../ui/page-header';
import { PackageDeployments } from './package-deployments';
import { PackageDetails } from './package-details';

export function PackagePage({ id }: { id: number }) {
  const api = useApi();
  const [deleteError, setDeleteError] = useState<unknown>(null);
  const { data, error, loading, reload } = useLoad(
    async (client) => {
      const pkg = await client.get<PackageView>(`/packages/${id}`);
      const [running, rollouts] = await Promise.all([
        client.get<{ total: number }>('/devices', { app: pkg.app, version: pkg.version, limit: 1 }),
        client.get<{ rollouts: RolloutView[] }>('/rollouts'),
      ]);
      const mine = rollouts.rollouts.filter((r) => r.package.id === id);
      return { pkg, runningOn: running.total, rollouts: mine };
    },
    [id],
  );

  const remove = async () => {
    if (
      !data ||
      !window.confirm(`Delete ${data.pkg.app} ${data.pkg.version}? Its file is removed too.`)
    ) {
      return;
    }
    try {
      await api.delete(`/packages/${id}`);
      navigate('#/packages');
    } catch (failure) {
      setDeleteError(failure);
    }
  };

  if (!data) {
    return (
      <>
        <PageHeader title={`Package ${id}`} />
        {error !== undefined && (
          <ErrorNotice error={error} title="Could not load the package" onRetry={reload} />
        )}
        {loading && <Loading what="the package" />}
      </>
    );
  }
  const { pkg } = data;
  return (
    <>
      <p className="crumbs">
        <a href="#/packages">Packages</a> /
      </p>
      <PageHeader
        title={`${pkg.app} ${pkg.version}`}
        subtitle={pkg.tapk?.description || pkg.fileName}
        actions={
          <>
            <a className="button button--primary" href={`#/rollouts/new?package=${pkg.id}`}>
              Roll out
            </a>
            <button type="button" className="button button--danger" onClick={remove}>
              Delete
            </button>
          </>
        }
      />
      {deleteError !== null && (
        <ErrorNotice error={deleteError} title="Could not delete the package" />
      )}
      <div className="grid-2">
        <PackageDetails pkg={pkg} />
        <PackageDeployments pkg={pkg} runningOn={data.runningOn} rollouts={data.rollouts} />
      </div>
    </>
  );
}
