/** The plan's total duration, whatever the engine calls it (`expectedSeconds` today). */
export function expectedDurationKey(plan: Record<string, unknown>): string | undefined {
  return Object.keys(plan).find(
    (k) => typeof plan[k] === 'number' && /^expected|duration|eta$/i.test(k),
  );
}

/** Warnings anywhere one level down (`warnings`, `pacing.warnings`): the operator must see them. */
export function planWarnings(plan: Record<string, unknown>): string[] {
  const found: unknown[] = [];
  const collect = (o: Record<string, unknown>) => {
    if (Array.isArray(o.warnings)) found.push(...o.warnings);
  };
  collect(plan);
  for (const value of Object.values(plan)) {
    if (value && typeof value === 'object' && !Array.isArray(value))
      collect(value as Record<string, unknown>);
  }
  return found.filter((w): w is string => typeof w === 'string');
}
