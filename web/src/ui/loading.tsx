export function Loading({ what }: { what: string }) {
  return (
    <p className="muted loading" aria-live="polite">
      Loading {what}…
    </p>
  );
}
