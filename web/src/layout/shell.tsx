import type { ReactNode } from 'react';
import { NavBar } from './nav-bar';

interface Props {
  user: string;
  onSignOut: () => void;
  children: ReactNode;
}

export function Shell({ user, onSignOut, children }: Props) {
  return (
    <div className="shell">
      <NavBar user={user} onSignOut={onSignOut} />
      <main className="shell__main">{children}</main>
    </div>
  );
}
