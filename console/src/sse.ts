import { apiBase, failed } from './api.js';
import { session } from './session.js';

/** One Server-Sent Events message: its `id` (the log position) and its data lines joined. */
export interface SseMessage {
  readonly id: string | undefined;
  readonly data: string;
}

/**
 * Reads the text/event-stream format (HTML's "Server-sent events" parsing rules) from chunks of text that may
 * split lines anywhere. EventSource would do this, but it cannot send an Authorization header, and the token
 * must never go in a URL.
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private id: string | undefined;
  /** The last id seen: what `Last-Event-ID` sends on a reconnect. */
  lastEventId: string | undefined;

  push(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const messages: SseMessage[] = [];
    // A line ends at \r\n, \n or \r; a trailing \r may be the first half of \r\n, so it waits for more.
    const lines = this.buffer.split(/\r\n|\n|\r(?!$)/);
    this.buffer = lines.pop() ?? '';
    for (const line of lines) {
      const message = this.line(line);
      if (message) messages.push(message);
    }
    return messages;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') {
      if (this.data.length === 0) return undefined;
      const message = { id: this.id, data: this.data.join('\n') };
      this.data = [];
      return message;
    }
    if (line.startsWith(':')) return undefined; // a comment: the heartbeat
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) {
      this.id = value;
      this.lastEventId = value;
    }
    return undefined;
  }
}

export interface TailOptions {
  readonly query: URLSearchParams;
  readonly signal: AbortSignal;
  readonly onEvent: (data: string, id: string | undefined) => void;
  /** Told when the stream is open (again), and when it dropped and a reconnect waits. */
  readonly onState: (state: 'open' | 'reconnecting') => void;
}

const reconnectDelayMs = 1_000;

/**
 * Follows `GET /events/stream` until the signal aborts: reconnects after a drop with `Last-Event-ID`, so no
 * event is lost or repeated. A problem answer (bad filter, 401, 403, 429) ends it with an ApiError.
 */
export async function tailEvents(options: TailOptions): Promise<void> {
  const parser = new SseParser();
  while (!options.signal.aborted) {
    const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${session.token() ?? ''}` };
    if (parser.lastEventId !== undefined) headers['last-event-id'] = parser.lastEventId;
    let response: Response;
    try {
      response = await fetch(`${apiBase}/events/stream?${options.query}`, {
        headers,
        signal: options.signal,
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      // Herald unreachable for a moment (a restart): try again, from where the stream was.
      if (options.signal.aborted) return;
      options.onState('reconnecting');
      await pause(reconnectDelayMs, options.signal);
      continue;
    }
    if (!response.ok || !response.body) throw await failed(response);
    options.onState('open');
    try {
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const message of parser.push(value)) options.onEvent(message.data, message.id);
      }
    } catch {
      // The connection dropped mid-stream: reconnect below, after the last id seen.
      if (options.signal.aborted) return;
    }
    if (options.signal.aborted) return;
    options.onState('reconnecting');
    await pause(reconnectDelayMs, options.signal);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
