import { useEffect, useState } from 'react';
import { useApi } from '../api/api-context';
import { followRollout, type StreamState } from '../api/rollout-event-stream';
import type { RolloutView } from '../api/types';

export interface RolloutStream {
  view: RolloutView | null;
  state: StreamState;
  /** HTTP status that ended the stream for good (404: no such rollout). */
  fatal: number | null;
  /** Shows an answer (e.g. of pause) before the stream repeats it. */
  setView: (view: RolloutView) => void;
}

/** The rollout as the server streams it (server-sent events), reconnecting when cut off. */
export function useRolloutStream(id: number): RolloutStream {
  const api = useApi();
  const [view, setView] = useState<RolloutView | null>(null);
  const [state, setState] = useState<StreamState>('connecting');
  const [fatal, setFatal] = useState<number | null>(null);

  useEffect(
    () =>
      followRollout(api.token, id, {
        onView: setView,
        onState: setState,
        onFatal: (status) => {
          setFatal(status);
          // A refused token signs the console out, as any other call does.
          if (status === 401) api.onUnauthorized();
        },
      }),
    [api, id],
  );

  return { view, state, fatal, setView };
}
