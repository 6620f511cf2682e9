import { useEffect, useRef, useState } from 'react';
import { useApi } from '../api/api-context';
import type { RolloutAction } from '../api/types';

/** Device lists are re-read at most this often, however fast the counts move. */
const MIN_GAP_MS = 1000;

export interface RolloutActions {
  actions: RolloutAction[] | undefined;
  error: unknown;
}

/**
 * The devices of a rollout in the given states (null: all), re-read when `version` changes —
 * the caller passes the counts it cares about, so a quiet rollout causes no requests.
 */
export function useRolloutActions(
  id: number,
  states: string[] | null,
  version: string,
): RolloutActions {
  const api = useApi();
  const scope = `${id}|${states ? states.join(',') : '*'}`;
  const [result, setResult] = useState<RolloutActions & { scope: string }>({
    actions: undefined,
    error: undefined,
    scope,
  });
  const lastLoad = useRef(0);
  const currentScope = useRef(scope);
  currentScope.current = scope;

  useEffect(() => {
    if (states && states.length === 0) {
      setResult({ actions: [], error: undefined, scope });
      return;
    }
    const wait = Math.max(0, lastLoad.current + MIN_GAP_MS - Date.now());
    const timer = setTimeout(async () => {
      lastLoad.current = Date.now();
      const route = `/rollouts/${id}/devices`;
      try {
        const lists = states
          ? await Promise.all(
              states.map((state) => api.get<{ devices: RolloutAction[] }>(route, { state })),
            )
          : [await api.get<{ devices: RolloutAction[] }>(route)];
        const actions = lists.flatMap((l) => l.devices).sort((a, b) => a.id - b.id);
        if (currentScope.current === scope) setResult({ actions, error: undefined, scope });
      } catch (error) {
        if (currentScope.current === scope) setResult((r) => ({ ...r, error }));
      }
    }, wait);
    return () => clearTimeout(timer);
    // `states` is part of `scope`, so it need not be a dependency of its own.
  }, [api, id, scope, version]);

  return result.scope === scope ? result : { actions: undefined, error: undefined };
}
