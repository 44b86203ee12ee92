import { attributeLimits, exceedsBytes } from './attribute-limits.js';
import { parseRfc3339 } from './cloudevent.js';
import { hasControlCharacters } from './control-characters.js';
import { type PollCursor, parsePollCursor } from './poll-cursor.js';
import { accepted, type FieldError, type Parsed } from './validation.js';

/**
 * Where a replay starts: with the events Herald stored at or after an instant (`from`), or after a place in
 * the log (`after`: `0` for its start, an event id, or a `~<position>` from a poll's `next` link).
 */
export type ReplayStart =
  | { readonly kind: 'time'; readonly at: number }
  | { readonly kind: 'cursor'; readonly cursor: PollCursor; readonly text: string };

/** A validated `POST /subscriptions/{id}/replay`. */
export interface ReplayRequest {
  readonly start: ReplayStart;
  /** Events stored after this instant (epoch ms) are left out; unset, the log as it stands at the request. */
  readonly until: number | undefined;
  readonly dryRun: boolean;
}

const fields = ['from', 'after', 'until', 'dryRun'];

export const replayMessages = {
  notAnObject: 'A replay request must be a JSON object.',
  startMissing: "Give 'from' (an RFC 3339 time, such as 2024-05-01T12:00:00Z) or 'after' (an event id, or a position such as ~1042).",
  bothStarts: "Give 'from' or 'after', not both.",
  untilBeforeFrom: "'until' must not be before 'from'.",
  dryRun: "'dryRun' must be true or false.",
} as const;

const timeMessage = (field: string) => `'${field}' must be an RFC 3339 time with a time zone, such as 2024-05-01T12:00:00Z.`;

/**
 * Validates a replay request, naming every field at fault. Unknown fields are refused, so a misspelt `untl`
 * cannot silently widen a replay to the end of the log.
 * @example parseReplayRequest({ from: '2024-05-01T12:00:00Z', dryRun: true })
 */
export function parseReplayRequest(body: unknown): Parsed<ReplayRequest> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, errors: [{ field: 'body', message: replayMessages.notAnObject }] };
  }
  const errors: FieldError[] = [];
  const given = body as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!fields.includes(name)) errors.push({ field: name, message: `'${name}' is not a field of a replay request (${fields.join(', ')}).` });
  }
  const present = (name: string) => given[name] !== undefined && given[name] !== null;
  let start: ReplayStart | undefined;
  if (present('from') && present('after')) errors.push({ field: 'after', message: replayMessages.bothStarts });
  else if (present('from')) start = parseTime('from', given.from, errors);
  else if (present('after')) start = parseAfter('after', given.after, errors);
  else errors.push({ field: 'from', message: replayMessages.startMissing });

  const until = present('until') ? parseTime('until', given.until, errors) : undefined;
  if (start?.kind === 'time' && until !== undefined && until.at < start.at) {
    errors.push({ field: 'until', message: replayMessages.untilBeforeFrom });
  }
  const dryRun = given.dryRun ?? false;
  if (typeof dryRun !== 'boolean') errors.push({ field: 'dryRun', message: replayMessages.dryRun });

  if (errors.length > 0 || start === undefined) return { ok: false, errors };
  return accepted({ start, until: until?.at, dryRun: dryRun === true });
}

/**
 * Reads a subscription's `startFrom`: an RFC 3339 time, else where to start as `after` takes it (`0`, an event
 * id, `~<position>`). A value shaped like a time but not a valid one (`2024-13-01T00:00:00Z`) is refused
 * rather than taken for an event id.
 * @example parseStartFrom('2024-05-01T12:00:00Z') // { ok: true, value: { kind: 'time', at: 1714564800000 } }
 */
export function parseStartFrom(value: unknown, field = 'startFrom'): Parsed<ReplayStart> {
  const errors: FieldError[] = [];
  const looksLikeTime = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}[Tt ]/.test(value);
  const start = looksLikeTime ? parseTime(field, value, errors) : parseAfter(field, value, errors);
  return start === undefined ? { ok: false, errors } : accepted(start);
}

function parseTime(field: string, value: unknown, errors: FieldError[]): { kind: 'time'; at: number } | undefined {
  const iso = typeof value === 'string' ? parseRfc3339(value) : undefined;
  if (iso === undefined) {
    errors.push({ field, message: timeMessage(field) });
    return undefined;
  }
  return { kind: 'time', at: Date.parse(iso) };
}

function parseAfter(field: string, value: unknown, errors: FieldError[]): ReplayStart | undefined {
  const refuse = (message: string) => {
    errors.push({ field, message });
    return undefined;
  };
  if (typeof value !== 'string') return refuse(`'${field}' must be a string: an event id, '0' for the start of the log, or a position such as ~1042.`);
  if (value === '') return refuse(`'${field}' must not be empty: '0' replays from the start of the log.`);
  if (hasControlCharacters(value)) return refuse(`'${field}' must not hold control characters.`);
  // No stored event has a longer id, and a longer one would be refused by PostgreSQL's index anyway.
  if (exceedsBytes(value, attributeLimits.id)) return refuse(`'${field}' is longer than any event id (${attributeLimits.id} bytes).`);
  return { kind: 'cursor', cursor: parsePollCursor(value), text: value };
}
