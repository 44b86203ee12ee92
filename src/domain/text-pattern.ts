/**
 * A filter value in which `%` stands for any run of characters (Altinn's wildcard). A value without `%` is an
 * exact match. Engines render patterns in their own syntax (LIKE with escapes, GLOB), so no other character is
 * ever a wildcard: `_` and `*` in a source URI mean themselves.
 */
export type TextPattern =
  | { readonly kind: 'exact'; readonly value: string }
  | { readonly kind: 'wildcard'; readonly parts: readonly string[] };

/** @example parseTextPattern('https://x/%/instances') // { kind: 'wildcard', parts: ['https://x/', '/instances'] } */
export function parseTextPattern(value: string): TextPattern {
  if (!value.includes('%')) return { kind: 'exact', value };
  return { kind: 'wildcard', parts: value.split('%') };
}

/** Matches a value against a pattern in memory, with the same meaning the engines give it. */
export function matchesTextPattern(pattern: TextPattern, value: string): boolean {
  if (pattern.kind === 'exact') return pattern.value === value;
  const [first = '', ...rest] = pattern.parts;
  if (!value.startsWith(first)) return false;
  let position = first.length;
  for (let i = 0; i < rest.length; i++) {
    const part = rest[i] ?? '';
    const isLast = i === rest.length - 1;
    if (isLast) return value.length - part.length >= position && value.endsWith(part);
    const found = value.indexOf(part, position);
    if (found < 0) return false;
    position = found + part.length;
  }
  return position === value.length;
}
