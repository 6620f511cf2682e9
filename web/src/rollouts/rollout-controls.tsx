import { useState } from 'react';
import { useApi } from '../api/api-context';
import type { RolloutView } from '../api/types';
import { ErrorNotice } from '../ui/error-notice';

interface Props {
  rollout: RolloutView;
  onChanged: (view: RolloutView) => void;
}

/** Pause, resume and cancel; each answer is shown at once, the stream confirms it. */
export function RolloutControls({ rollout, onChanged }: Props) {
  const api = useApi();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const act = async (verb: 'pause' | 'resume' | 'cancel') => {
    if (
      verb === 'cancel' &&
      !window.confirm(
        'Cancel this rollout? Devices not yet downloading are told to forget the command; ' +
          'devices already downloading or installing finish on their own.',
      )
    ) {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onChanged(await api.post<RolloutView>(`/rollouts/${rollout.id}/${verb}`));
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const open = rollout.status === 'running' || rollout.status === 'paused';
  return (
    <>
      {rollout.status === 'running' && (
        <button type="button" className="button" disabled={busy} onClick={() => act('pause')}>
          Pause
        </button>
      )}
      {rollout.status === 'paused' && (
        <button
          type="button"
          className="button button--primary"
          disabled={busy}
          onClick={() => act('resume')}
        >
          Resume
        </button>
      )}
      {open && (
        <button
          type="button"
          className="button button--danger"
          disabled={busy}
          onClick={() => act('cancel')}
        >
          Cancel rollout
        </button>
      )}
      {error !== null && <ErrorNotice error={error} title="The rollout did not change" />}
    </>
  );
}
