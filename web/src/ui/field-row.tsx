import type { ReactNode } from 'react';

/** One label and value of a `dl.fields` list. */
export function FieldRow({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="fields__row">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}
