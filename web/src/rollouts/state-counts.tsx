import { orderedStates, stateLabel } from '../ui/action-states';

interface Props {
  counts: Record<string, number>;
  selected: string | null;
  onSelect: (state: string | null) => void;
}

/** A tile per state with its count; pressing one lists its devices below. */
export function StateCounts({ counts, selected, onSelect }: Props) {
  return (
    <div className="tiles" role="group" aria-label="Filter devices by state">
      {orderedStates(counts).map((state) => (
        <button
          key={state}
          type="button"
          className={[
            'tile',
            `state-border--${state}`,
            counts[state] === 0 ? 'tile--zero' : '',
            selected === state ? 'tile--on' : '',
          ].join(' ')}
          aria-pressed={selected === state}
          onClick={() => onSelect(selected === state ? null : state)}
        >
          <span className="tile__count">{counts[state].toLocaleString()}</span>
          <span className="tile__label">{stateLabel(state)}</span>
        </button>
      ))}
    </div>
  );
}
