import { describe, expect, it } from 'vitest';
import { SseParser } from '../../console/src/sse-parser.js';

/** Feeds the text to a parser in pieces of `size` characters, as a network may split it. */
function parseInPieces(text: string, size: number) {
  const parser = new SseParser();
  const messages = [];
  for (let i = 0; i < text.length; i += size) messages.push(...parser.push(text.slice(i, i + size)));
  return { messages, lastEventId: parser.lastEventId };
}

describe("The console's Server-Sent Events parser", () => {
  const stream =
    ': heartbeat\n\n' +
    'id: ~1\ndata: {"id":"a","type":"t"}\n\n' +
    ': heartbeat\r\n\r\n' +
    'id: ~2\r\ndata: {"id":"b",\r\ndata: "type":"t"}\r\n\r\n' +
    'id:~3\rdata:{"id":"c"}\r\r';

  it('reads each message with its id, skipping heartbeats, however the text is split and whatever the line ends', () => {
    for (const size of [1, 2, 3, 7, 1000]) {
      const { messages, lastEventId } = parseInPieces(stream, size);
      expect(messages, `pieces of ${size}`).toEqual([
        { id: '~1', data: '{"id":"a","type":"t"}' },
        { id: '~2', data: '{"id":"b",\n"type":"t"}' },
        { id: '~3', data: '{"id":"c"}' },
      ]);
      expect(lastEventId).toBe('~3');
    }
  });

  it('keeps a message that has not ended yet until its blank line comes', () => {
    const parser = new SseParser();
    expect(parser.push('id: ~9\ndata: {"id":"x"}\n')).toEqual([]);
    expect(parser.lastEventId).toBe('~9');
    expect(parser.push('\n')).toEqual([{ id: '~9', data: '{"id":"x"}' }]);
  });

  it('ignores fields it does not know and an id holding NUL, as the SSE rules say', () => {
    const parser = new SseParser();
    expect(parser.push('event: other\nretry: 10\nid: a\0b\ndata: x\n\n')).toEqual([{ id: undefined, data: 'x' }]);
  });
});
