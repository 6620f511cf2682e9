import { useCallback, useMemo, useState } from 'react';
import { ApiClient } from './api/api-client';
import { ApiContext } from './api/api-context';
import { logout } from './auth/login-api';
import { LoginPage } from './auth/login-page';
import { clearSession, loadSession, saveSession, type Session } from './auth/session';
import { Shell } from './layout/shell';
import { Pages } from './layout/pages';

/** The console: the login until there is a session, then the pages behind it. */
export function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const [notice, setNotice] = useState<string | undefined>();

  const signIn = useCallback((next: Session, remember: boolean) => {
    saveSession(next, remember);
    setNotice(undefined);
    setSession(next);
  }, []);

  const signOut = useCallback(async (reason?: string) => {
    const current = loadSession();
    clearSession();
    setSession(null);
    setNotice(reason);
    if (current?.via === 'password' && !reason) await logout(current.token);
  }, []);

  const api = useMemo(
    () =>
      session &&
      new ApiClient(
        session.token,
        () => void signOut('Your session has ended (the token was refused). Please sign in again.'),
      ),
    [session, signOut],
  );

  if (!session || !api) return <LoginPage onSignedIn={signIn} notice={notice} />;
  return (
    <ApiContext.Provider value={api}>
      <Shell user={session.user} onSignOut={() => void signOut()}>
        <Pages />
      </Shell>
    </ApiContext.Provider>
  );
}
