import { formatPollPosition } from '../domain/poll-cursor.js';

/** The media type of an event stream (HTML's Server-Sent Events). */
export const eventStreamType = 'text/event-stream; charset=utf-8';

/** The comment a stream sends when nothing else was sent for a while, so proxies keep the connection open. */
export const heartbeatComment = ': heartbeat\n\n';

/** The comment a stream opens with: it sends the response's headers at once, before any event. */
export const openComment = ': stream open\n\n';

/**
 * One event as one message: its log position as the `id` (what `after` and `Last-Event-ID` accept) and the
 * stored CloudEvent as the `data` line. No `event` field, so EventSource's `onmessage` receives it.
 * @example eventMessage(1042, '{"id":"1"}') // 'id: ~1042\ndata: {"id":"1"}\n\n'
 */
export function eventMessage(seq: number, payload: string): string {
  return `id: ${formatPollPosition(seq)}\ndata: ${oneLine(payload)}\n\n`;
}

/**
 * JSON text on one line. A line break in JSON can only be whitespace between tokens (strings hold them escaped),
 * so it is replaced by a space; a payload stored with line breaks would otherwise split the `data` field.
 */
function oneLine(json: string): string {
  return json.includes('\n') || json.includes('\r') ? json.replace(/\r\n|\r|\n/g, ' ') : json;
}
