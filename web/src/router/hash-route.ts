import { useEffect, useState } from 'react';

/**
 * The console routes in the URL fragment (`#/devices/lab-1?tab=x`): the server serves one
 * index.html at `/` and needs no fallback for client-side paths.
 */
export interface Route {
  /** Path segments, e.g. ['devices', 'lab-1']. */
  parts: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const [path, search = ''] = text.split('?', 2);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, query: new URLSearchParams(search) };
}

export function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const update = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}

/** Builds `#/a/b?x=1` from segments and a query (empty values are left out). */
export function href(
  parts: (string | number)[],
  query?: Record<string, string | undefined>,
): string {
  const path = parts.map((p) => encodeURIComponent(String(p))).join('/');
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value) params.set(key, value);
  const search = params.toString();
  return `#/${path}${search ? `?${search}` : ''}`;
}

export function navigate(target: string, replace = false): void {
  if (replace) window.location.replace(target);
  else window.location.hash = target.slice(1);
}
