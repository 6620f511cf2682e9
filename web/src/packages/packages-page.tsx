import { useLoad } from '../api/use-load';
import type { PackageView, RolloutView } from '../api/types';
import { ErrorNotice } from '../ui/error-notice';
import { Loading } from '../ui/loading';
import { PageHeader } from '../ui/page-header';
import { PackageTable } from './package-table';
import { UploadPanel } from './upload-panel';

export function PackagesPage() {
  const { data, error, loading, reload } = useLoad(async (api) => {
    const [packages, rollouts] = await Promise.all([
      api.get<{ packages: PackageView[] }>('/packages'),
      api.get<{ rollouts: RolloutView[] }>('/rollouts'),
    ]);
    return { packages: packages.packages, rollouts: rollouts.rollouts };
  }, []);

  return (
    <>
      <PageHeader
        title="Packages"
        subtitle="What you can roll out: TiJOS .tapk apps and any firmware file"
      />
      <UploadPanel onUploaded={reload} />
      <section className="card">
        <h2>Uploaded packages</h2>
        {error !== undefined && (
          <ErrorNotice error={error} title="Could not load the packages" onRetry={reload} />
        )}
        {data ? (
          <PackageTable packages={data.packages} rollouts={data.rollouts} />
        ) : (
          loading && <Loading what="packages" />
        )}
      </section>
    </>
  );
}
