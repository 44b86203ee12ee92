/**
 * Whether a string holds a control character (U+0000–U+001F, U+007F–U+009F). CloudEvents strings may not
 * (1.0.2 §3.2), and PostgreSQL text cannot hold U+0000.
 */
export function hasControlCharacters(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}
