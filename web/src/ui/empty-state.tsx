import type { ReactNode } from 'react';

interface Props {
  title: string;
  children?: ReactNode;
}

/** What an empty list means and what to do next. */
export function EmptyState({ title, children }: Props) {
  return (
    <div className="empty">
      <p className="empty__title">{title}</p>
      {children && <div className="empty__body">{children}</div>}
    </div>
  );
}
