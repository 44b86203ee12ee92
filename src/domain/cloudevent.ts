import { attributeLimits, exceedsBytes, extensionLimits, tooLong } from './attribute-limits.js';
import { hasControlCharacters } from './control-characters.js';
import { isValidResourceUrn } from './resource-urn.js';
import { loneSurrogatePath, mayHoldLoneSurrogate } from './unicode-text.js';
import { accepted, type FieldError, type Parsed } from './validation.js';

/**
 * A CloudEvent that passed validation, ready to be stored: the typed columns the log is queried by, and the
 * structured-mode JSON exactly as Herald will serve and deliver it.
 */
export interface ValidEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly resource: string;
  readonly subject: string | null;
  readonly alternativesubject: string | null;
  /** `time` as a UTC ISO string with millisecond precision, for range queries; the payload keeps the original. */
  readonly time: string | null;
  /**
   * The structured CloudEvent (JSON text), attributes in the order the producer sent them, null attributes
   * dropped; a `data` of null is kept, since it is not the same as no data (JSON format §3.1.1).
   */
  readonly payload: string;
}

export const requiredAttributes = ['specversion', 'id', 'source', 'type'] as const;

/** Names of extension attributes (CloudEvents 1.0.2 §3.1.1): lower-case letters and digits; any length. */
const attributeNamePattern = /^[a-z0-9]+$/;
/** A URI-reference (RFC 3986): only URI characters, and every `%` starts a valid escape. */
const uriReferencePattern = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$/;
const absoluteUriPattern = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const rfc3339Pattern =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

type AttributeCheck = (value: unknown) => string | undefined;

const nonEmptyString: AttributeCheck = (value) =>
  typeof value === 'string' && value.length > 0 ? undefined : 'must be a non-empty string.';

/** The attributes Herald knows, and what each must hold. Anything else is an extension attribute. */
const knownAttributes: Record<string, AttributeCheck> = {
  specversion: (value) =>
    value === '1.0' ? undefined : "must be '1.0', the only CloudEvents version Herald accepts.",
  id: nonEmptyString,
  type: nonEmptyString,
  source: (value) =>
    typeof value === 'string' && uriReferencePattern.test(value) ? undefined : 'must be a URI-reference.',
  subject: nonEmptyString,
  time: (value) =>
    typeof value === 'string' && parseRfc3339(value) !== undefined
      ? undefined
      : 'must be an RFC 3339 timestamp.',
  datacontenttype: (value) =>
    typeof value === 'string' && /^[^\s/]+\/[^\s]+/.test(value) ? undefined : 'must be a media type.',
  dataschema: (value) =>
    typeof value === 'string' && uriReferencePattern.test(value) && absoluteUriPattern.test(value)
      ? undefined
      : 'must be an absolute URI.',
  resource: (value) =>
    typeof value === 'string' && isValidResourceUrn(value) ? undefined : "'Resource' must be a valid urn.",
  resourceinstance: nonEmptyString,
  alternativesubject: nonEmptyString,
  data: () => undefined,
  data_base64: (value) =>
    typeof value === 'string' && base64Pattern.test(value) ? undefined : 'must be base64-encoded bytes.',
};

const extensionValue: AttributeCheck = (value) =>
  typeof value === 'string' ||
  typeof value === 'boolean' ||
  (typeof value === 'number' && Number.isFinite(value))
    ? undefined
    : 'must be a string, a number or a boolean.';

/**
 * Validates one structured-mode CloudEvent (a parsed JSON value) and prepares it for storage.
 * Every problem is reported, each naming its attribute (prefixed with `fieldPrefix`, e.g. `[3].` in a batch).
 * @example parseCloudEvent({ specversion: '1.0', id: '1', source: 'urn:x', type: 't', resource: 'urn:altinn:resource:r' })
 */
export function parseCloudEvent(input: unknown, fieldPrefix = ''): Parsed<ValidEvent> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return {
      ok: false,
      errors: [
        {
          field: fieldPrefix ? fieldPrefix.replace(/\.$/, '') : 'body',
          message: 'A CloudEvent must be a JSON object.',
        },
      ],
    };
  }
  const errors: FieldError[] = [];
  const event: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(input)) {
    // A null attribute means unset (CloudEvents JSON format §3.1); a null `data` is data (§3.1.1).
    if (value === undefined || (value === null && name !== 'data')) continue;
    // Own properties only: `constructor` or `__proto__` must not find Object.prototype's members.
    const check = Object.hasOwn(knownAttributes, name) ? knownAttributes[name] : undefined;
    if (!check && !attributeNamePattern.test(name)) {
      errors.push({
        field: fieldPrefix + name,
        message: `'${name}' is not a valid attribute name: use lower-case letters a-z and digits 0-9 only.`,
      });
      continue;
    }
    if (!check && name.length > extensionLimits.name) {
      errors.push({
        field: fieldPrefix + name,
        message: `Extension attribute names must be at most ${extensionLimits.name} characters; this one has ${name.length}.`,
      });
      continue;
    }
    const problem =
      (check ?? extensionValue)(value) ??
      (name === 'data' ? dataProblem(value) : textProblem(value, byteLimit(name, check !== undefined)));
    if (problem) {
      errors.push({
        field: fieldPrefix + name,
        message: problem.startsWith("'") ? problem : `'${name}' ${problem}`,
      });
      continue;
    }
    event[name] = value;
  }
  for (const name of requiredAttributes) {
    if (!(name in event) && !errors.some((e) => e.field === fieldPrefix + name)) {
      errors.push({
        field: fieldPrefix + name,
        message: `CloudEvent is missing required attributes: ${name}`,
      });
    }
  }
  if (!('resource' in event) && !errors.some((e) => e.field === `${fieldPrefix}resource`)) {
    errors.push({ field: `${fieldPrefix}resource`, message: "A 'resource' property must be defined." });
  }
  // A null `data` says nothing next to bytes that are the data.
  if (event.data === null && 'data_base64' in event) delete event.data;
  if ('data' in event && 'data_base64' in event) {
    errors.push({
      field: `${fieldPrefix}data_base64`,
      message: "'data' and 'data_base64' cannot both be set.",
    });
  }
  if (errors.length > 0) return { ok: false, errors };

  const payload = JSON.stringify(event);
  if (mayHoldLoneSurrogate(payload)) {
    const unpaired = loneSurrogateErrors(event, fieldPrefix);
    if (unpaired.length > 0) return { ok: false, errors: unpaired };
  }
  return accepted({
    id: event.id as string,
    source: event.source as string,
    type: event.type as string,
    resource: event.resource as string,
    subject: (event.subject as string | undefined) ?? null,
    alternativesubject: (event.alternativesubject as string | undefined) ?? null,
    time: typeof event.time === 'string' ? (parseRfc3339(event.time) ?? null) : null,
    payload,
  });
}

/**
 * Each attribute holding an unpaired surrogate, anywhere in it (a key or string deep in `data`): UTF-8 cannot
 * hold one, and the database would store U+FFFD in its place, making different values one.
 */
function loneSurrogateErrors(event: Record<string, unknown>, fieldPrefix: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const [name, value] of Object.entries(event)) {
    const path = loneSurrogatePath(value);
    if (path === undefined) continue;
    errors.push({
      field: fieldPrefix + name,
      message:
        `'${name}' holds an unpaired surrogate${path ? ` at ${path}` : ''} (such as the JSON escape \\ud800 ` +
        'without its pair), which is not Unicode text and cannot be stored.',
    });
  }
  return errors;
}

/** The most an attribute may hold, in UTF-8 bytes; `resource` is bounded by its URN rule, `data_base64` by the event's size. */
function byteLimit(name: string, known: boolean): number | undefined {
  if (Object.hasOwn(attributeLimits, name)) return attributeLimits[name as keyof typeof attributeLimits];
  return known ? undefined : extensionLimits.value;
}

/** The deepest `data` Herald stores: deeper JSON is almost surely an attack, and costly to serialize. */
export const maxDataDepth = 100;

/**
 * CloudEvents strings may not hold control characters (1.0.2 §3.2), and PostgreSQL text cannot hold U+0000.
 * Every stored string has a limit, so that no valid event can exceed an index entry.
 */
function textProblem(value: unknown, limit: number | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (hasControlCharacters(value)) return 'must not contain control characters.';
  return limit !== undefined && exceedsBytes(value, limit) ? tooLong(value, limit) : undefined;
}

function dataProblem(value: unknown): string | undefined {
  return exceedsDepth(value, maxDataDepth) ? `is nested more than ${maxDataDepth} levels deep.` : undefined;
}

/** Measures nesting without recursion, so hostile input cannot overflow the stack. */
function exceedsDepth(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

/** 400 Gregorian years, in milliseconds: the calendar repeats exactly after them. */
const fourHundredYearsMs = 146_097 * 86_400_000;
const daysInMonths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : (daysInMonths[month - 1] ?? 0);
}

/** The validation and the stored value parse the same string back to back: the second parse is free. */
let lastParsed: { text: string; iso: string | undefined } | undefined;

/**
 * @returns the instant as a UTC ISO string (millisecond precision; finer digits are cut, not rounded), or
 *   `undefined` when not RFC 3339. Computed from the fields rather than by `Date.parse`: publishing parses every
 *   event's time, and this is several times faster.
 */
export function parseRfc3339(text: string): string | undefined {
  if (lastParsed?.text === text) return lastParsed.iso;
  const iso = computeRfc3339(text);
  lastParsed = { text, iso };
  return iso;
}

function computeRfc3339(text: string): string | undefined {
  const match = rfc3339Pattern.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const fraction = match[7];
  const sign = match[8];
  const offsetHour = Number(match[9] ?? 0);
  const offsetMinute = Number(match[10] ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 60 || offsetHour > 23 || offsetMinute > 59) return undefined;
  const millisecond = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  // Date.UTC reads years 0–99 as 1900–1999: compute 400 years later (the same calendar) and step back.
  const shift = year < 100 ? 400 : 0;
  // A leap second (:60) has no place in a JavaScript Date; it is stored as the next second.
  let instant = Date.UTC(year + shift, month - 1, day, hour, minute, second) + millisecond - (shift ? fourHundredYearsMs : 0);
  if (sign !== undefined) instant -= (sign === '-' ? -1 : 1) * (offsetHour * 60 + offsetMinute) * 60_000;
  const utc = new Date(instant);
  // Years 1 to 9999 in UTC: what both engines and ISO strings without an expanded year can hold.
  const utcYear = utc.getUTCFullYear();
  if (Number.isNaN(instant) || utcYear < 1 || utcYear > 9999) return undefined;
  return utc.toISOString();
}
