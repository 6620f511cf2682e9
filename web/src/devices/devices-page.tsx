import { useLoad } from '../api/use-load';
import { href, navigate } from '../router/hash-route';
import { ErrorNotice } from '../ui/error-notice';
import { Loading } from '../ui/loading';
import { PageHeader } from '../ui/page-header';
import { DeviceFilterBar } from './device-filter-bar';
import { filtersFrom, loadDevices, PAGE_SIZE, type DeviceFilters } from './device-filters';
import { DeviceTable } from './device-table';
import { Pager } from './pager';

/** The fleet, filtered by what is in the URL (`#/devices?tag=lab&online=true`). */
export function DevicesPage({ query }: { query: URLSearchParams }) {
  const filters = filtersFrom(query);
  const page = Math.max(0, Number(query.get('page') ?? 0) || 0);
  const key = JSON.stringify([filters, page]);
  const { data, error, loading, reload } = useLoad((api) => loadDevices(api, filters, page), [key]);

  const apply = (next: DeviceFilters, nextPage = 0) =>
    navigate(href(['devices'], { ...next, page: nextPage ? String(nextPage) : undefined }), true);

  return (
    <>
      <PageHeader
        title="Devices"
        subtitle={data ? `${data.total.toLocaleString()} matching` : undefined}
      />
      <DeviceFilterBar filters={filters} onChange={apply} />
      {error !== undefined && (
        <ErrorNotice error={error} title="Could not load the devices" onRetry={reload} />
      )}
      {data ? (
        <section className="card card--flush" aria-busy={loading}>
          {data.partial && (
            <p className="notice notice--info">
              The last-contact filter looked at the first 10,000 devices only; narrow the other
              filters to see all.
            </p>
          )}
          <DeviceTable
            devices={data.devices}
            filtered={Object.values(filters).some(Boolean)}
            onTag={(tag) => apply({ ...filters, tag })}
          />
          <Pager
            page={page}
            pages={Math.ceil(data.total / PAGE_SIZE)}
            onPage={(p) => apply(filters, p)}
          />
        </section>
      ) : (
        loading && <Loading what="devices" />
      )}
    </>
  );
}
