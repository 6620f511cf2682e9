/**
 * C0 controls, DEL and C1 controls: what can drive a terminal (escape sequences, bell,
 * carriage return). Device messages refuse them in names and codes (protocol/parse.ts); the
 * CLI shows any it prints as escapes (cli/output.ts).
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** Whether `text` holds a control character. */
export function hasControlCharacter(text: string): boolean {
  return CONTROL_CHARACTER.test(text);
}
