/**
 * Strings as CESQL counts them: in characters (Unicode code points), so that an emoji is one character for
 * LENGTH, LEFT, SUBSTRING and LIKE's `_`, not two UTF-16 code units.
 */

const surrogate = /[\uD800-\uDFFF]/;

/** Whether a pair starts at index i: a high surrogate followed by a low one. */
function pairAt(text: string, i: number): boolean {
  const unit = text.charCodeAt(i);
  if (unit < 0xd800 || unit > 0xdbff) return false;
  const next = text.charCodeAt(i + 1);
  return next >= 0xdc00 && next <= 0xdfff;
}

export function characterLength(text: string): number {
  if (!surrogate.test(text)) return text.length;
  let count = 0;
  for (let i = 0; i < text.length; i += pairAt(text, i) ? 2 : 1) count += 1;
  return count;
}

/** Characters [start, end) of text, counted in code points. */
export function sliceCharacters(text: string, start: number, end: number): string {
  if (!surrogate.test(text)) return text.slice(start, end);
  let character = 0;
  let from = text.length;
  let to = text.length;
  for (let i = 0; i < text.length; i += pairAt(text, i) ? 2 : 1) {
    if (character === start) from = i;
    if (character === end) {
      to = i;
      break;
    }
    character += 1;
  }
  return from >= to ? '' : text.slice(from, to);
}

/**
 * Unicode's White_Space characters (PropList.txt), which TRIM removes (§3.5.1). JavaScript's own trim() differs:
 * it removes U+FEFF, which is not White_Space, and keeps U+0085, which is.
 */
function isWhiteSpace(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) ||
    code === 0x20 ||
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

/** Every White_Space character is in the BMP, so code units serve. */
export function trimWhiteSpace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isWhiteSpace(text.charCodeAt(start))) start += 1;
  while (end > start && isWhiteSpace(text.charCodeAt(end - 1))) end -= 1;
  return text.slice(start, end);
}
