import { useState, type FormEvent } from 'react';
import { ErrorNotice } from '../ui/error-notice';
import { loginWithPassword } from './login-api';
import type { Session } from './session';

interface Props {
  onSignedIn: (session: Session, remember: boolean) => void;
}

export function PasswordLoginForm({ onSignedIn }: Props) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [remember, setRemember] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const token = await loginWithPassword(username.trim(), password);
      onSignedIn({ token, user: username.trim(), via: 'password' }, remember);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  return (
    <form className="form" onSubmit={submit} aria-label="Sign in with a password">
      <label className="form__field">
        <span>User name</span>
        <input
          name="username"
          autoComplete="username"
          required
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
      </label>
      <label className="form__field">
        <span>Password</span>
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      <label className="form__check">
        <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} />
        Keep me signed in on this browser
      </label>
      {error !== null && <ErrorNotice error={error} title="Could not sign in" />}
      <button type="submit" className="button button--primary" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
      <p className="muted small">
        On the first start the server writes the <code>admin</code> account's password to{' '}
        <code>&lt;data folder&gt;/admin-password</code>.
      </p>
    </form>
  );
}
