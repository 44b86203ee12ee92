import { describe, expect, it } from 'vitest';
import { formatPollPosition, parsePollCursor } from '../../src/domain/poll-cursor.js';

describe('parsePollCursor', () => {
  it("reads '0' as the start of the log", () => {
    expect(parsePollCursor('0')).toEqual({ kind: 'start' });
  });

  it.each([
    ['~0', 0],
    ['~1042', 1042],
    ['~999999999999999', 999_999_999_999_999],
  ])("reads the position token '%s' as sequence %i", (after, seq) => {
    expect(parsePollCursor(after)).toEqual({ kind: 'position', seq });
  });

  it.each([
    '288f71f2-8cbd-3442-1532-ac14f3fd9faa',
    '00',
    '1042',
    '-1',
    '~',
    '~abc',
    '~-1',
    '~1.5',
    '~1234567890123456',
    ' ~12',
  ])("reads '%s' as the id of an event, not as a position", (after) => {
    expect(parsePollCursor(after)).toEqual({ kind: 'event', id: after });
  });
});

describe('formatPollPosition', () => {
  it('writes a position that parsePollCursor reads back', () => {
    expect(formatPollPosition(1042)).toBe('~1042');
    expect(parsePollCursor(formatPollPosition(77))).toEqual({ kind: 'position', seq: 77 });
  });
});
