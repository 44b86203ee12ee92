import { hasControlCharacters } from './control-characters.js';
import { type PollCursor, parsePollCursor } from './poll-cursor.js';
import { type PollParameters, type PollQuery, parsePollQuery } from './poll-query.js';
import { isAscii } from './unicode-text.js';
import type { FieldError, Parsed } from './validation.js';

/**
 * Where a stream starts: after a cursor as a poll's `after` names one, or `now` (neither `after` nor
 * `Last-Event-ID` given): only events committed after the stream opened.
 */
export type StreamStart = PollCursor | { readonly kind: 'now' };

/** A validated `GET /events/stream`: the poll's filters, and where to start. */
export interface StreamQuery extends Omit<PollQuery, 'cursor' | 'size'> {
  readonly start: StreamStart;
}

/** The stream's query string: the poll's, without a page size (a stream has no pages). */
export type StreamParameters = Omit<PollParameters, 'size'>;

/**
 * Validates a stream's parameters with the poll's rules and messages (docs/poll.md#streaming). `after` is
 * optional here, and `lastEventId` (the `Last-Event-ID` header a reconnecting client sends) wins over it: it is
 * the position of the last event the client received. An empty `Last-Event-ID` is no header at all, as in
 * EventSource, which sends none until it has seen an id.
 * @example parseStreamQuery({ resource: 'urn:altinn:resource:app' }) // start: { kind: 'now' }
 */
export function parseStreamQuery(
  parameters: StreamParameters,
  alternativeSubjectHeader?: string,
  rawQuery = '',
  lastEventId?: string,
): Parsed<StreamQuery> {
  const errors: FieldError[] = [];
  const resumeAfter = lastEventId === '' ? undefined : lastEventId;
  if (resumeAfter !== undefined && (!isAscii(resumeAfter) || hasControlCharacters(resumeAfter))) {
    errors.push({
      field: 'Last-Event-ID',
      message: 'The Last-Event-ID header must hold the id of an event this stream sent (printable ASCII), such as ~1042.',
    });
  }
  // The poll's rules for every parameter; `after` is checked only when given.
  const poll = parsePollQuery({ ...parameters, after: parameters.after ?? '0', size: undefined }, alternativeSubjectHeader, rawQuery);
  if (!poll.ok) errors.push(...poll.errors);
  if (!poll.ok || errors.length > 0) return { ok: false, errors };
  const { cursor, size: _size, ...filters } = poll.value;
  const start: StreamStart =
    resumeAfter !== undefined ? parsePollCursor(resumeAfter) : parameters.after === undefined ? { kind: 'now' } : cursor;
  return { ok: true, value: { ...filters, start } };
}
