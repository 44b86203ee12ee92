import { describe, expect, it } from 'vitest';
import { eventMessage } from '../../src/http/server-sent-events.js';

describe('eventMessage', () => {
  it("is one message: the position as the id, the event as one data line, no event field", () => {
    expect(eventMessage(1042, '{"id":"e1"}')).toBe('id: ~1042\ndata: {"id":"e1"}\n\n');
  });

  it('keeps JSON whose text holds line breaks on one line, without changing its value', () => {
    const payload = '{\r\n  "id": "e1",\n  "data": "a\\nb"\r}';
    const message = eventMessage(1, payload);
    expect(message.split('\n')).toHaveLength(4);
    expect(JSON.parse(message.split('\n')[1]!.slice('data: '.length))).toEqual(JSON.parse(payload));
  });
});
