import { fieldLabel, formatField } from '../format/format-field';

interface Props {
  fields: Record<string, unknown>;
  /** Keys shown elsewhere on the page (at any depth). */
  skip?: readonly string[];
}

/**
 * Every field of an object as a definition list, objects within it as nested lists: how API
 * fields the console has no view for still reach the screen.
 */
export function FieldList({ fields, skip = [] }: Props) {
  const keys = Object.keys(fields).filter((k) => !skip.includes(k) && fields[k] !== undefined);
  if (keys.length === 0) return null;
  return (
    <dl className="fields">
      {keys.map((key) => {
        const value = fields[key];
        const nested = value !== null && typeof value === 'object' && !Array.isArray(value);
        return (
          <div key={key} className="fields__row">
            <dt>{fieldLabel(key)}</dt>
            <dd>
              {nested ? (
                <FieldList fields={value as Record<string, unknown>} skip={skip} />
              ) : (
                formatField(key, value)
              )}
            </dd>
          </div>
        );
      })}
    </dl>
  );
}
