import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiClient } from './api-client';
import { useApi } from './api-context';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads data for a page and reloads it when `deps` change. An answer that arrives after a
 * newer request was made is dropped, so fast filter changes never show stale rows.
 */
export function useLoad<T>(
  load: (api: ApiClient) => Promise<T>,
  deps: readonly unknown[],
): Loaded<T> {
  const api = useApi();
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({
    loading: true,
  });
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const run = useCallback(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    loadRef.current(api).then(
      (data) => mine === generation.current && setState({ data, loading: false }),
      (error: unknown) =>
        mine === generation.current && setState((s) => ({ ...s, error, loading: false })),
    );
  }, [api, ...deps]);

  useEffect(run, [run]);
  return { data: state.data, error: state.error, loading: state.loading, reload: run };
}
