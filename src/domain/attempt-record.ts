/**
 * What Herald keeps of one webhook attempt (docs/delivery.md, "Attempts"): when it started, how long it took,
 * and what the endpoint answered (its status, headers and the start of its body) or why it never answered.
 * What one consumer's endpoint can make Herald store is bounded here, whatever it sends.
 */

/** Why an attempt got no answer: a small closed set, so owners (and redrive filters) can match on it. */
export type AttemptErrorKind = 'timeout' | 'refused' | 'dns' | 'tls' | 'reset' | 'blocked' | 'other';

export const attemptErrorKinds: readonly AttemptErrorKind[] = ['timeout', 'refused', 'dns', 'tls', 'reset', 'blocked', 'other'];

/** Whether `value` names an error kind. */
export function isAttemptErrorKind(value: unknown): value is AttemptErrorKind {
  return attemptErrorKinds.includes(value as AttemptErrorKind);
}

/** The limits on what one answer can make Herald keep. */
export const attemptLimits = {
  /** Bytes of the response body kept (and read: the rest is never received). */
  bodyBytes: 4096,
  /** Response headers kept, in the order they came. */
  headers: 32,
  /** Bytes of one header's name and value together; a longer header is cut to this. */
  headerBytes: 512,
  /** Bytes of all kept headers together; headers past this are left out. */
  headersBytes: 4096,
} as const;

/** The answer's part of an attempt: absent when the endpoint never answered. */
export interface AttemptAnswer {
  readonly statusCode: number;
  /** Kept response headers, names in lower case, repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** The first `attemptLimits.bodyBytes` of the body as UTF-8 text (bytes that are not UTF-8 read as U+FFFD). */
  readonly body: string;
  /** The body went on past what was kept. */
  readonly bodyTruncated: boolean;
}

/** One attempt as it is recorded with its delivery's outcome. */
export interface AttemptRecord {
  /** Epoch ms (Herald's clock) when the request started. */
  readonly startedAt: number;
  readonly durationMs: number;
  /** Set when the endpoint answered (any status). */
  readonly answer?: AttemptAnswer | undefined;
  /** Set when it did not: the kind, and a message for people. */
  readonly errorKind?: AttemptErrorKind | undefined;
  readonly error?: string | undefined;
}

/**
 * Keeps the headers within the limits: at most `headers` of them, each cut to `headerBytes`, all together
 * within `headersBytes`. Values travel to the database as JSON text, so NUL (which PostgreSQL text refuses) is
 * replaced.
 * @example keptHeaders({ 'Content-Type': 'text/plain', 'x-list': ['a', 'b'] }) // { 'content-type': 'text/plain', 'x-list': 'a, b' }
 */
export function keptHeaders(raw: Readonly<Record<string, string | readonly string[] | undefined>>): Record<string, string> {
  const kept: Record<string, string> = {};
  let total = 0;
  let count = 0;
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined || count >= attemptLimits.headers) continue;
    const key = storableText(cutToBytes(name.toLowerCase(), attemptLimits.headerBytes));
    const keyBytes = byteLength(key);
    const text = storableText(cutToBytes(Array.isArray(value) ? value.join(', ') : String(value), attemptLimits.headerBytes - keyBytes));
    const size = keyBytes + byteLength(text);
    if (total + size > attemptLimits.headersBytes) break;
    // Own data properties only, whatever the name (`__proto__` included).
    Object.defineProperty(kept, key, { value: text, enumerable: true, writable: true, configurable: true });
    total += size;
    count++;
  }
  return kept;
}

/**
 * The kept start of a body as text: at most `bodyBytes`, a multi-byte character cut at the limit left out,
 * bytes that are not UTF-8 and NUL shown as U+FFFD (the body is shown to people, and stored as text).
 */
export function keptBody(bytes: Uint8Array): string {
  if (bytes.length === 0) return '';
  // Streaming: an incomplete character at the end is held back rather than shown as U+FFFD.
  return storableText(new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, attemptLimits.bodyBytes), { stream: true }));
}

function storableText(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

/** The UTF-8 length of `text`, counted without encoding it (every answer's headers pass through here). */
function byteLength(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    // Two bytes below U+0800; three otherwise, a surrogate pair's four counted as two threes less two.
    bytes += code < 0x800 ? 1 : code >= 0xd800 && code <= 0xdfff ? 1 : 2;
  }
  return bytes;
}

/** `text` cut so that its UTF-8 form fits `bytes`, never inside a character. */
function cutToBytes(text: string, bytes: number): string {
  if (text.length * 3 <= bytes || byteLength(text) <= bytes) return text;
  let cut = text.slice(0, Math.max(0, bytes));
  while (byteLength(cut) > bytes) cut = cut.slice(0, -1);
  // A lone high surrogate left at the end is not text.
  return cut.replace(/[\uD800-\uDBFF]$/, '');
}
