import { useState } from 'react';
import type { DeviceEvent } from '../api/types';
import { formatAgo, formatDate } from '../format/format';
import { EmptyState } from '../ui/empty-state';
import { FieldList } from '../ui/field-list';
import { CATEGORY_LABELS, toTimelineEntry, type TimelineCategory } from './timeline-entry';

/** Detail fields already said by the title or the code chips. */
const SAID = ['reason', 'code', 'http', 'state', 'cmd'];

/** A device's history, newest first, filterable by kind of event. */
export function DeviceTimeline({ events }: { events: DeviceEvent[] }) {
  const [only, setOnly] = useState<TimelineCategory | null>(null);
  const entries = events.map(toTimelineEntry);
  const present = [...new Set(entries.map((e) => e.category))];
  const shown = only ? entries.filter((e) => e.category === only) : entries;

  if (entries.length === 0) {
    return (
      <EmptyState title="Nothing has happened on this device yet">
        It has never connected.
      </EmptyState>
    );
  }
  return (
    <>
      <div className="chips" role="group" aria-label="Show">
        <button
          type="button"
          className={only ? 'chip' : 'chip chip--on'}
          onClick={() => setOnly(null)}
        >
          All ({entries.length})
        </button>
        {present.map((c) => (
          <button
            key={c}
            type="button"
            className={only === c ? `chip chip--on chip--${c}` : `chip chip--${c}`}
            onClick={() => setOnly(only === c ? null : c)}
          >
            {CATEGORY_LABELS[c]} ({entries.filter((e) => e.category === c).length})
          </button>
        ))}
      </div>
      <ol className="timeline" aria-label="History">
        {shown.map(({ event, category, title, codes }) => (
          <li key={event.id} className={`timeline__item timeline__item--${category}`}>
            <div className="timeline__head">
              <strong>{title}</strong>
              <time
                dateTime={new Date(event.at).toISOString()}
                title={formatDate(event.at)}
                className="muted small"
              >
                {formatAgo(event.at)}
              </time>
            </div>
            {codes.length > 0 && (
              <div className="timeline__codes">
                {codes.map((c) => (
                  <code key={c} className="code-chip">
                    {c}
                  </code>
                ))}
              </div>
            )}
            <div className="timeline__detail small">
              <FieldList fields={event.detail} skip={SAID} />
              <span className="muted">
                {event.kind}
                {event.actionId !== null && ` · action ${event.actionId}`} · {formatDate(event.at)}
              </span>
            </div>
          </li>
        ))}
      </ol>
    </>
  );
}
