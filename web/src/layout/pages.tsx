import { AuditPage } from '../audit/audit-page';
import { DevicePage } from '../devices/device-page';
import { DevicesPage } from '../devices/devices-page';
import { OverviewPage } from '../overview/overview-page';
import { PackagePage } from '../packages/package-page';
import { PackagesPage } from '../packages/packages-page';
import { useHashRoute } from '../router/hash-route';
import { NewRolloutPage } from '../rollouts/new-rollout-page';
import { RolloutPage } from '../rollouts/rollout-page';
import { RolloutsPage } from '../rollouts/rollouts-page';
import { EmptyState } from '../ui/empty-state';

/** Picks the page for the URL fragment; see router/hash-route.ts. */
export function Pages() {
  const { parts, query } = useHashRoute();
  const [section = 'overview', id] = parts;

  switch (section) {
    case 'overview':
      return <OverviewPage />;
    case 'packages':
      return id ? <PackagePage key={id} id={Number(id)} /> : <PackagesPage />;
    case 'devices':
      return id ? <DevicePage key={id} id={id} /> : <DevicesPage query={query} />;
    case 'rollouts':
      if (id === 'new') return <NewRolloutPage initialPackageId={query.get('package')} />;
      return id ? <RolloutPage key={id} id={Number(id)} /> : <RolloutsPage />;
    case 'audit':
      return <AuditPage />;
    default:
      return (
        <EmptyState title="There is no such page">
          <a href="#/overview">Go to the overview</a>
        </EmptyState>
      );
  }
}
