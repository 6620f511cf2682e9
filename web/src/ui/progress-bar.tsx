interface Props {
  value: number;
  max: number;
  label: string;
}

/** A single-colour bar with its figure beside it, for uploads. */
export function ProgressBar({ value, max, label }: Props) {
  const percent = max > 0 ? Math.min(100, Math.round((value / max) * 100)) : 0;
  return (
    <div className="progress">
      <div
        className="bar"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
      >
        <span className="bar__seg bar__seg--accent" style={{ width: `${percent}%` }} />
      </div>
      <span className="progress__figure">{percent} %</span>
    </div>
  );
}
