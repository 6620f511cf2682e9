/**
 * For options that take a list: `--tag a,b`, `--tag a --tag b` and a mix of both all give
 * [a, b]. Pass as commander's option parser with [] as the default; commander otherwise keeps
 * only the last of a repeated option, silently.
 */
export function commaList(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  ];
}
