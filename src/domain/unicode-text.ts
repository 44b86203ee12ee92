/**
 * Text that UTF-8 cannot hold. JavaScript strings are UTF-16 and may hold an unpaired surrogate (JSON text can
 * write one as the escape `\ud800`); stored, the database driver turns it into U+FFFD, so two different
 * values would be stored as one. Herald refuses such text instead (docs/publish.md#text).
 */

/** `String.prototype.isWellFormed` (ES2024, in Node 20), which the ES2023 library types do not declare. */
type WellFormedString = string & { isWellFormed(): boolean };

/**
 * Whether a string holds an unpaired surrogate.
 * @example hasLoneSurrogate('\ud800') // true; hasLoneSurrogate('😀') // false
 */
export function hasLoneSurrogate(text: string): boolean {
  return !(text as WellFormedString).isWellFormed();
}

/**
 * Where in a parsed JSON value the first string or object key holding an unpaired surrogate is
 * (`filters[2].name`, or `''` for the value itself), or `undefined` when there is none. Walks without
 * recursion, so hostile nesting cannot overflow the stack.
 */
export function loneSurrogatePath(value: unknown): string | undefined {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [current, path] = stack.pop() as [unknown, string];
    if (typeof current === 'string') {
      if (hasLoneSurrogate(current)) return path;
    } else if (Array.isArray(current)) {
      current.forEach((item, index) => stack.push([item, `${path}[${index}]`]));
    } else if (typeof current === 'object' && current !== null) {
      for (const [key, item] of Object.entries(current)) {
        const at = path ? `${path}.${key}` : key;
        if (hasLoneSurrogate(key)) return at;
        stack.push([item, at]);
      }
    }
  }
  return undefined;
}

/**
 * Whether text written by `JSON.stringify` may hold an unpaired surrogate: it writes each one as an escape
 * (`\ud800`), and well-formed text never needs that escape. One native search over text that was serialized
 * anyway, where walking every string of a large `data` would cost far more; `loneSurrogatePath` confirms.
 */
export function mayHoldLoneSurrogate(serialized: string): boolean {
  return serialized.includes('\\ud');
}

/** Whether every character is ASCII. HTTP headers carry bytes Node reads as Latin-1, not UTF-8. */
export function isAscii(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(text);
}

/**
 * Whether a query-string component percent-decodes to valid UTF-8. A `%` that starts no escape is kept as
 * itself (the wildcard in `source=https://x/%`), as the query parser does; raw characters outside ASCII,
 * which a client should have percent-encoded, are refused too.
 * @example decodesToUtf8('%C3%A9') // true; decodesToUtf8('%E9') // false
 */
export function decodesToUtf8(component: string): boolean {
  if (!isAscii(component)) return false;
  if (!/%[89a-fA-F][0-9a-fA-F]/.test(component)) return true;
  try {
    decodeURIComponent(component.replace(/%(?![0-9a-fA-F]{2})/g, '%25'));
    return true;
  } catch {
    return false;
  }
}

/**
 * The names of the parameters in a raw query string (without `?`) whose name or value does not decode to
 * valid UTF-8: the query parser would keep them as undecoded text, and filter on something the client did
 * not mean.
 * @example parametersNotUtf8('after=0&subject=%FF') // ['subject']
 */
export function parametersNotUtf8(query: string): string[] {
  const names: string[] = [];
  if (!/%[89a-fA-F]/.test(query) && isAscii(query)) return names;
  for (const pair of query.split('&')) {
    const equals = pair.indexOf('=');
    const name = equals < 0 ? pair : pair.slice(0, equals);
    const value = equals < 0 ? '' : pair.slice(equals + 1);
    if (decodesToUtf8(name) && decodesToUtf8(value)) continue;
    names.push(decodesToUtf8(name) ? decodeURIComponent(name.replace(/%(?![0-9a-fA-F]{2})/g, '%25')) : name);
  }
  return names;
}
