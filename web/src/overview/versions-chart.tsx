import { formatCount, formatPercent } from '../format/format';
import { href } from '../router/hash-route';
import type { VersionShare } from './load-overview';

const ROWS = 8;
const ROW_HEIGHT = 44;

/**
 * Horizontal bars, one per app version, widest first; the rest are summed as "other". Bar
 * widths are percentages so the chart fits any screen without scaling its text.
 */
export function VersionsChart({ shares }: { shares: VersionShare[] }) {
  const total = shares.reduce((n, s) => n + s.count, 0);
  const shown = shares.slice(0, ROWS);
  const rest = shares.slice(ROWS).reduce((n, s) => n + s.count, 0);
  const rows = shown.map((s) => ({
    label: s.app ? `${s.app} ${s.version ?? ''}` : 'not connected yet',
    count: s.count,
    link: s.app ? href(['devices'], { app: s.app, version: s.version ?? undefined }) : undefined,
  }));
  if (rest)
    rows.push({ label: `${shares.length - ROWS} other versions`, count: rest, link: undefined });

  return (
    <svg
      className="chart"
      width="100%"
      height={rows.length * ROW_HEIGHT}
      role="img"
      aria-label={`Versions in the field: ${rows.map((r) => `${r.label} ${r.count}`).join(', ')}`}
    >
      {rows.map((row, i) => {
        const y = i * ROW_HEIGHT;
        const width = total ? (row.count / total) * 100 : 0;
        const content = (
          <>
            <text x="0" y={y + 15} className="chart__label">
              {row.label}
            </text>
            <text x="100%" y={y + 15} textAnchor="end" className="chart__figure">
              {formatCount(row.count)} · {formatPercent(row.count, total)}
            </text>
            <rect x="0" y={y + 22} width="100%" height="12" rx="3" className="chart__track" />
            <rect
              x="0"
              y={y + 22}
              width={`${Math.max(width, 0.5)}%`}
              height="12"
              rx="3"
              className={`chart__bar chart__bar--${i % 6}`}
            />
          </>
        );
        return row.link ? (
          <a key={row.label} href={row.link} aria-label={`Devices on ${row.label}`}>
            {content}
          </a>
        ) : (
          <g key={row.label}>{content}</g>
        );
      })}
    </svg>
  );
}
