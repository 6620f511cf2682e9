import { formatField } from '../format/format-field';
import { humanize } from '../format/format';

interface Props {
  fields: Record<string, unknown>;
  /** Keys shown elsewhere on the page. */
  skip?: readonly string[];
}

/** Every field of an object as a definition list: how new API fields reach the screen. */
export function FieldList({ fields, skip = [] }: Props) {
  const keys = Object.keys(fields).filter((k) => !skip.includes(k));
  if (keys.length === 0) return null;
  return (
    <dl className="fields">
      {keys.map((key) => (
        <div key={key} className="fields__row">
          <dt>{humanize(key)}</dt>
          <dd>{formatField(key, fields[key])}</dd>
        </div>
      ))}
    </dl>
  );
}
