/**
 * The most each stored attribute may hold, in bytes of UTF-8 (docs/publish.md#limits). Chosen so that no valid
 * event can exceed an index entry: PostgreSQL refuses a btree entry over 2,704 bytes (8 KiB pages), and the
 * widest entry Herald writes is the key (`source`, `id`) of `event_keys`: 1,024 + 1,024 bytes plus headers.
 * `subject`, `alternativesubject`, `resource` and `source` each share an entry only with an 8-byte position.
 * Attributes that are not indexed get limits too, so that every stored value has one.
 */
export const attributeLimits = {
  id: 1024,
  source: 1024,
  type: 1024,
  subject: 1024,
  alternativesubject: 1024,
  resourceinstance: 1024,
  datacontenttype: 1024,
  dataschema: 1024,
  /** RFC 3339 puts no bound on the fraction of a second; 64 bytes hold any instant to far below a nanosecond. */
  time: 64,
} as const satisfies Record<string, number>;

/** Extension attributes: neither is indexed; both are kept in the event's JSON. */
export const extensionLimits = {
  /** Names are lower-case letters and digits, so characters and bytes are the same. */
  name: 128,
  /** Larger content belongs in `data`. */
  value: 4096,
} as const;

/**
 * What Altinn's URN rule already bounds: `urn:` + 30 + 10 × (1 + 100) ASCII characters. Not checked apart,
 * so that an over-long resource keeps Altinn's message ("'Resource' must be a valid urn.").
 */
export const longestResource = 4 + 30 + 10 * 101;

/** Subscription fields, in bytes of UTF-8: a filter longer than the attribute it filters could never match. */
export const subscriptionFieldLimits = {
  endPoint: 2048,
  sourceFilter: attributeLimits.source,
  subjectFilter: attributeLimits.subject,
  alternativeSubjectFilter: attributeLimits.alternativesubject,
  typeFilter: attributeLimits.type,
} as const;

/**
 * Whether `text` takes more than `limit` bytes as UTF-8. A UTF-16 code unit takes at most three bytes, so
 * short text (nearly all of it) is answered without counting.
 * @example exceedsBytes('€€', 5) // true: six bytes
 */
export function exceedsBytes(text: string, limit: number): boolean {
  return text.length * 3 > limit && Buffer.byteLength(text, 'utf8') > limit;
}

/** Why a value over its limit was refused, to follow the name of its attribute or field. */
export function tooLong(text: string, limit: number): string {
  return `must be at most ${limit} bytes of UTF-8 text; it is ${Buffer.byteLength(text, 'utf8')}.`;
}
