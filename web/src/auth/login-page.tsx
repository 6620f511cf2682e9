import { useEffect, useState } from 'react';
import { passwordLoginAvailable } from './login-api';
import { PasswordLoginForm } from './password-login-form';
import type { Session } from './session';
import { TokenLoginForm } from './token-login-form';

interface Props {
  onSignedIn: (session: Session, remember: boolean) => void;
  /** Why the operator is here again, e.g. the token expired. */
  notice?: string;
}

/**
 * Sign-in: a user name and password where the server offers `POST /api/v1/login`, and an API
 * token always (the admin token printed by `tiota server` works from the first start).
 */
export function LoginPage({ onSignedIn, notice }: Props) {
  const [hasPassword, setHasPassword] = useState<boolean | null>(null);
  const [mode, setMode] = useState<'password' | 'token'>('password');

  useEffect(() => {
    void passwordLoginAvailable().then((available) => {
      setHasPassword(available);
      if (!available) setMode('token');
    });
  }, []);

  return (
    <main className="login">
      <div className="login__card card">
        <h1 className="login__brand">Tiota</h1>
        <p className="muted">Over-the-air updates for your fleet</p>
        {notice && (
          <p className="notice notice--info" role="status">
            {notice}
          </p>
        )}
        {hasPassword === null ? (
          <p className="muted">Checking how this server signs in…</p>
        ) : mode === 'password' ? (
          <PasswordLoginForm onSignedIn={onSignedIn} />
        ) : (
          <TokenLoginForm onSignedIn={onSignedIn} passwordAvailable={hasPassword} />
        )}
        {hasPassword && (
          <button
            type="button"
            className="link-button"
            onClick={() => setMode(mode === 'password' ? 'token' : 'password')}
          >
            {mode === 'password' ? 'Use an API token instead' : 'Sign in with a password instead'}
          </button>
        )}
      </div>
    </main>
  );
}
