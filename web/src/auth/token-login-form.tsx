import { useState, type FormEvent } from 'react';
import { ErrorNotice } from '../ui/error-notice';
import { checkToken } from './login-api';
import type { Session } from './session';

interface Props {
  onSignedIn: (session: Session, remember: boolean) => void;
  passwordAvailable: boolean;
}

export function TokenLoginForm({ onSignedIn, passwordAvailable }: Props) {
  const [token, setToken] = useState('');
  const [remember, setRemember] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const value = token.trim();
    setBusy(true);
    setError(null);
    try {
      const user = await checkToken(value);
      onSignedIn({ token: value, user, via: 'token' }, remember);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  return (
    <form className="form" onSubmit={submit} aria-label="Sign in with an API token">
      <label className="form__field">
        <span>API token</span>
        <input
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="tiota_…"
          required
          value={token}
          onChange={(e) => setToken(e.target.value)}
        />
      </label>
      <label className="form__check">
        <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} />
        Keep me signed in on this browser
      </label>
      {error !== null && <ErrorNotice error={error} title="Could not sign in" />}
      <button type="submit" className="button button--primary" disabled={busy}>
        {busy ? 'Checking…' : 'Sign in'}
      </button>
      <p className="muted small">
        {passwordAvailable ? '' : 'This server has no password sign-in yet. '}
        The admin token is in <code>&lt;data folder&gt;/admin-token</code> (
        <code>./tiota-data/admin-token</code> by default); <code>tiota server</code> prints its
        path.
      </p>
    </form>
  );
}
