import type { PackageView, RolloutView } from '../api/types';
import { formatAgo, formatBytes } from '../format/format';
import { EmptyState } from '../ui/empty-state';
import { StateBadge } from '../ui/state-badge';

interface Props {
  packages: PackageView[];
  rollouts: RolloutView[];
}

export function PackageTable({ packages, rollouts }: Props) {
  if (packages.length === 0) {
    return (
      <EmptyState title="No packages yet">
        Drop a <code>.tapk</code> or firmware file above to upload your first package.
      </EmptyState>
    );
  }
  const byPackage = new Map<number, RolloutView[]>();
  for (const r of rollouts)
    byPackage.set(r.package.id, [...(byPackage.get(r.package.id) ?? []), r]);

  return (
    <div className="table-wrap">
      <table className="table">
        <thead>
          <tr>
            <th>App</th>
            <th>Version</th>
            <th className="wide-only">Size</th>
            <th className="wide-only">Uploaded</th>
            <th>Deployed by</th>
          </tr>
        </thead>
        <tbody>
          {packages.map((p) => (
            <tr key={p.id}>
              <td>
                <a href={`#/packages/${p.id}`}>{p.app}</a>
                {p.kind === 'tapk' && <span className="tag">tapk</span>}
              </td>
              <td>{p.version}</td>
              <td className="wide-only">{formatBytes(p.size)}</td>
              <td className="wide-only">
                {formatAgo(p.createdAt)} by {p.createdBy}
              </td>
              <td>
                <RolloutLinks rollouts={byPackage.get(p.id) ?? []} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RolloutLinks({ rollouts }: { rollouts: RolloutView[] }) {
  if (rollouts.length === 0) return <span className="muted">not deployed</span>;
  return (
    <span className="inline-list">
      {rollouts.slice(0, 3).map((r) => (
        <a key={r.id} href={`#/rollouts/${r.id}`} className="inline-list__item">
          #{r.id} <StateBadge state={r.status} />
        </a>
      ))}
      {rollouts.length > 3 && <span className="muted">+{rollouts.length - 3}</span>}
    </span>
  );
}
