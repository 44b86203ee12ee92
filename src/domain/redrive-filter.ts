import { attemptErrorKinds, type AttemptErrorKind, isAttemptErrorKind } from './attempt-record.js';
import { parseRfc3339 } from './cloudevent.js';
import { accepted, type FieldError, type Parsed } from './validation.js';

/**
 * Which dead letters a redrive takes (docs/dead-letters.md): those that died in a time range, and whose last
 * attempt was answered with a status or got no answer for a reason. Unset fields do not filter; an empty
 * filter takes every dead letter, as a redrive always did.
 */
export interface RedriveFilter {
  /** Died at or after (epoch ms). */
  readonly diedFrom?: number | undefined;
  /** Died before (epoch ms). */
  readonly diedUntil?: number | undefined;
  readonly statusCode?: number | undefined;
  readonly errorKind?: AttemptErrorKind | undefined;
}

const fields = ['diedFrom', 'diedUntil', 'statusCode', 'errorKind'];

export const redriveMessages = {
  notAnObject: 'A redrive filter must be a JSON object (or no body, for every dead letter).',
  untilBeforeFrom: "'diedUntil' must be after 'diedFrom'.",
  statusCode: "'statusCode' must be an HTTP status code, an integer from 100 to 599.",
  errorKind: `'errorKind' must be one of ${attemptErrorKinds.map((k) => `'${k}'`).join(', ')}.`,
  bothOutcomes: "Give 'statusCode' (the endpoint answered) or 'errorKind' (it did not), not both: no attempt has both.",
} as const;

/**
 * Validates a redrive's body, naming every field at fault. No body is no filter. Unknown fields are refused,
 * so a misspelt `statuscode` cannot silently widen a redrive to every dead letter.
 * @example parseRedriveFilter({ diedFrom: '2024-05-01T00:00:00Z', statusCode: 503 })
 */
export function parseRedriveFilter(body: unknown): Parsed<RedriveFilter> {
  if (body === undefined || body === null) return accepted({});
  if (typeof body !== 'object' || Array.isArray(body)) return { ok: false, errors: [{ field: 'body', message: redriveMessages.notAnObject }] };
  const given = body as Record<string, unknown>;
  const errors: FieldError[] = [];
  for (const name of Object.keys(given)) {
    if (!fields.includes(name)) errors.push({ field: name, message: `'${name}' is not a field of a redrive filter (${fields.join(', ')}).` });
  }
  const diedFrom = given.diedFrom === undefined ? undefined : parseTime('diedFrom', given.diedFrom, errors);
  const diedUntil = given.diedUntil === undefined ? undefined : parseTime('diedUntil', given.diedUntil, errors);
  if (diedFrom !== undefined && diedUntil !== undefined && diedUntil <= diedFrom) {
    errors.push({ field: 'diedUntil', message: redriveMessages.untilBeforeFrom });
  }
  const { statusCode, errorKind } = given;
  if (statusCode !== undefined && !(Number.isInteger(statusCode) && (statusCode as number) >= 100 && (statusCode as number) <= 599)) {
    errors.push({ field: 'statusCode', message: redriveMessages.statusCode });
  }
  if (errorKind !== undefined && !isAttemptErrorKind(errorKind)) errors.push({ field: 'errorKind', message: redriveMessages.errorKind });
  if (statusCode !== undefined && errorKind !== undefined) errors.push({ field: 'errorKind', message: redriveMessages.bothOutcomes });
  if (errors.length > 0) return { ok: false, errors };
  return accepted({
    diedFrom,
    diedUntil,
    statusCode: statusCode as number | undefined,
    errorKind: errorKind as AttemptErrorKind | undefined,
  });
}

function parseTime(field: string, value: unknown, errors: FieldError[]): number | undefined {
  const iso = typeof value === 'string' ? parseRfc3339(value) : undefined;
  const at = iso === undefined ? Number.NaN : Date.parse(iso);
  if (Number.isNaN(at)) {
    errors.push({ field, message: `'${field}' must be an RFC 3339 time with a time zone, such as 2024-05-01T12:00:00Z.` });
    return undefined;
  }
  return at;
}
