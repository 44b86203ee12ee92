/**
 * A Server-Sent Events reader for tests, parsing a fetch body as HTML's event-stream rules say (lines end in
 * CRLF, LF or CR; `:` starts a comment; one leading space of a value is dropped; `data` lines join with a line
 * feed; a blank line dispatches, and a message without data is not dispatched but its `id` still counts).
 */

/** A dispatched message. */
export interface SseMessage {
  readonly kind: 'message';
  /** The last event id after this message (HTML's "last event ID"), as EventSource would resend it. */
  readonly id: string;
  readonly event: string | undefined;
  readonly data: string;
}

export interface SseComment {
  readonly kind: 'comment';
  readonly text: string;
}

export type SseItem = SseMessage | SseComment;

export class SseReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private readonly ready: SseItem[] = [];
  private data: string[] = [];
  private event: string | undefined;
  /** The last event id as parsed so far, kept across messages as EventSource keeps it. */
  private parsedId = '';
  /** The last event id of the messages returned so far: what EventSource would send on reconnecting. */
  lastEventId = '';
  private ended = false;

  constructor(
    readonly response: Response,
    private readonly abort?: AbortController,
  ) {
    if (!response.body) throw new Error('the response has no body');
    this.reader = response.body.getReader();
  }

  /** The next message or comment; `undefined` once the stream has ended. */
  async next(): Promise<SseItem | undefined> {
    while (this.ready.length === 0) {
      if (this.ended) return undefined;
      const { done, value } = await this.reader.read();
      if (done) {
        this.ended = true;
        this.take(this.decoder.decode());
      } else {
        this.take(this.decoder.decode(value, { stream: true }));
      }
    }
    const item = this.ready.shift();
    if (item?.kind === 'message') this.lastEventId = item.id;
    return item;
  }

  /** The next message, skipping comments; `undefined` once the stream has ended. */
  async nextMessage(): Promise<SseMessage | undefined> {
    for (;;) {
      const item = await this.next();
      if (item === undefined || item.kind === 'message') return item;
    }
  }

  /** The next `count` messages; fails if the stream ends first. */
  async messages(count: number): Promise<SseMessage[]> {
    const messages: SseMessage[] = [];
    while (messages.length < count) {
      const message = await this.nextMessage();
      if (!message) throw new Error(`the stream ended after ${messages.length} of ${count} messages`);
      messages.push(message);
    }
    return messages;
  }

  /** Goes away as a client would: the connection is closed. */
  async close(): Promise<void> {
    this.abort?.abort();
    await this.reader.cancel().catch(() => {});
  }

  private take(text: string): void {
    this.buffer += text;
    for (;;) {
      const end = /\r\n|\r|\n/.exec(this.buffer);
      // A lone CR at the end may be the first half of a CRLF: wait for the next chunk, unless there is none.
      if (!end || (end[0] === '\r' && end.index === this.buffer.length - 1 && !this.ended)) return;
      const line = this.buffer.slice(0, end.index);
      this.buffer = this.buffer.slice(end.index + end[0].length);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) {
        this.ready.push({ kind: 'message', id: this.parsedId, event: this.event, data: this.data.join('\n') });
      }
      this.data = [];
      this.event = undefined;
      return;
    }
    if (line.startsWith(':')) {
      this.ready.push({ kind: 'comment', text: line.slice(1).replace(/^ /, '') });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.parsedId = value;
  }
}

/**
 * Opens an event stream with fetch, as browser code does (EventSource cannot send a token).
 * @returns the reader, or the response when the answer is not an event stream (a problem)
 */
export async function openEventStream(url: string, headers: Record<string, string>): Promise<SseReader | Response> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  if (response.status !== 200) return response;
  return new SseReader(response, abort);
}
