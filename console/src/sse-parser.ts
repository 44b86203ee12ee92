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
  private afterCarriageReturn = false;
  /** The last id seen: what `Last-Event-ID` sends on a reconnect. */
  lastEventId: string | undefined;

  push(chunk: string): SseMessage[] {
    if (chunk === '') return [];
    // A line ends at \r\n, \n or \r. A chunk ending in \r has ended its line; a \n starting the next chunk
    // is then the second half of that \r\n, not an empty line.
    const text = this.buffer + (this.afterCarriageReturn && chunk.startsWith('\n') ? chunk.slice(1) : chunk);
    this.afterCarriageReturn = text.endsWith('\r');
    const lines = text.split(/\r\n|\n|\r/);
    this.buffer = lines.pop() ?? '';
    const messages: SseMessage[] = [];
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
