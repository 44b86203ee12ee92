import { formatPollPosition } from '../domain/poll-cursor.js';
import type { LoggedEvent } from '../store/store.js';

const bold = (text: string) => `\x1b[1m${text}\x1b[22m`;

/**
 * One event as `herald events tail` prints it. Pretty: a one-line header (position, time, type, source, id,
 * resource, subject) and the whole event as indented JSON. `json`: the event exactly as stored, on one line,
 * for `jq` and scripts.
 * @example formatEvent({ seq: 7, payload: '{"id":"1",…}' }, { json: true, color: false }) // '{"id":"1",…}'
 */
export function formatEvent(event: LoggedEvent, options: { json: boolean; color: boolean }): string {
  if (options.json) {
    // Stored payloads are compact already; one with line breaks would break a one-event-per-line stream.
    return event.payload.includes('\n') ? JSON.stringify(JSON.parse(event.payload)) : event.payload;
  }
  const body = JSON.parse(event.payload) as Record<string, unknown>;
  const text = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : undefined);
  const header = [
    formatPollPosition(event.seq),
    text('time') ?? '-',
    text('type'),
    text('source'),
    `id=${text('id')}`,
    text('resource'),
    text('subject') && `subject=${text('subject')}`,
  ]
    .filter((part): part is string => Boolean(part))
    .join('  ');
  const indented = JSON.stringify(body, null, 2).replace(/^/gm, '  ');
  return `${options.color ? bold(header) : header}\n${indented}`;
}
