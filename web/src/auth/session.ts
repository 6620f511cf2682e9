/** Where the console keeps its bearer token between page loads. */
const KEY = 'tiota.session';

export interface Session {
  token: string;
  /** Who is signed in, as far as the console knows (the account name, or "API token"). */
  user: string;
  /** How the token was obtained: a password login can be ended with POST /logout. */
  via: 'password' | 'token';
}

/** A remembered session survives closing the browser (localStorage); otherwise the tab only. */
export function loadSession(): Session | null {
  const text = sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY);
  if (!text) return null;
  try {
    const session = JSON.parse(text) as Session;
    return typeof session.token === 'string' ? session : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session, remember: boolean): void {
  clearSession();
  (remember ? localStorage : sessionStorage).setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}
