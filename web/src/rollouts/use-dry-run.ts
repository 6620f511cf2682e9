import { useEffect, useState } from 'react';
import { useApi } from '../api/api-context';
import type { CreateRolloutBody, RolloutPlan } from '../api/types';

const TYPING_PAUSE_MS = 400;

export interface DryRun {
  plan: RolloutPlan | null;
  /** The request the plan answers: Start sends exactly this, so what you saw is what runs. */
  planned: string | null;
  error: unknown;
  pending: boolean;
}

/** Asks the engine for the plan (`dryRun: true`) whenever the form settles on a new request. */
export function useDryRun(body: CreateRolloutBody | null): DryRun {
  const api = useApi();
  const key = body ? JSON.stringify(body) : null;
  const [state, setState] = useState<DryRun>({
    plan: null,
    planned: null,
    error: null,
    pending: false,
  });

  useEffect(() => {
    if (!key) {
      setState({ plan: null, planned: null, error: null, pending: false });
      return;
    }
    let current = true;
    setState((s) => ({ ...s, pending: true }));
    const timer = setTimeout(() => {
      api.post<RolloutPlan>('/rollouts', { ...JSON.parse(key), dryRun: true }).then(
        (plan) => current && setState({ plan, planned: key, error: null, pending: false }),
        (error: unknown) =>
          current && setState({ plan: null, planned: null, error, pending: false }),
      );
    }, TYPING_PAUSE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [api, key]);

  return state;
}
