import { useHashRoute } from '../router/hash-route';

const SECTIONS = [
  { path: 'overview', label: 'Overview' },
  { path: 'packages', label: 'Packages' },
  { path: 'devices', label: 'Devices' },
  { path: 'rollouts', label: 'Rollouts' },
  { path: 'audit', label: 'Audit' },
] as const;

interface Props {
  user: string;
  onSignOut: () => void;
}

export function NavBar({ user, onSignOut }: Props) {
  const current = useHashRoute().parts[0] ?? 'overview';
  return (
    <header className="nav">
      <a className="nav__brand" href="#/overview">
        Tiota
      </a>
      <nav className="nav__links" aria-label="Sections">
        {SECTIONS.map((s) => (
          <a
            key={s.path}
            href={`#/${s.path}`}
            className={current === s.path ? 'nav__link nav__link--active' : 'nav__link'}
            aria-current={current === s.path ? 'page' : undefined}
          >
            {s.label}
          </a>
        ))}
      </nav>
      <div className="nav__user">
        <span className="muted nav__name" title="Signed in as">
          {user}
        </span>
        <button type="button" className="button button--small" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
