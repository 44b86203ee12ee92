import { describe, expect, it } from 'vitest';
import { parseReplayRequest, parseStartFrom } from '../../src/domain/replay-request.js';

describe('parseReplayRequest', () => {
  it('reads from, until and dryRun, as epoch milliseconds', () => {
    expect(parseReplayRequest({ from: '2024-05-01T12:00:00Z', until: '2024-05-01T14:00:00+02:00', dryRun: true })).toEqual({
      ok: true,
      value: { start: { kind: 'time', at: Date.UTC(2024, 4, 1, 12) }, until: Date.UTC(2024, 4, 1, 12), dryRun: true },
    });
  });

  it("reads after as a poll's cursor: the start, a position or an event id", () => {
    const start = (after: string) => {
      const parsed = parseReplayRequest({ after });
      return parsed.ok ? parsed.value.start : undefined;
    };
    expect(start('0')).toEqual({ kind: 'cursor', cursor: { kind: 'start' }, text: '0' });
    expect(start('~1042')).toEqual({ kind: 'cursor', cursor: { kind: 'position', seq: 1042 }, text: '~1042' });
    expect(start('288f71f2')).toEqual({ kind: 'cursor', cursor: { kind: 'event', id: '288f71f2' }, text: '288f71f2' });
  });

  it('treats null as absent and names every field at fault at once', () => {
    expect(parseReplayRequest({ after: '0', until: null, dryRun: null })).toMatchObject({ ok: true, value: { dryRun: false } });
    const parsed = parseReplayRequest({ from: 'x', after: '0', until: 'y', dryRun: 1, extra: true });
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? [] : parsed.errors.map((e) => e.field).sort()).toEqual(['after', 'dryRun', 'extra', 'until']);
  });
});

describe('parseStartFrom', () => {
  it('reads a time as a time, anything else as where to start after', () => {
    expect(parseStartFrom('2024-05-01T12:00:00.5Z')).toEqual({ ok: true, value: { kind: 'time', at: Date.UTC(2024, 4, 1, 12, 0, 0, 500) } });
    expect(parseStartFrom('0')).toMatchObject({ ok: true, value: { kind: 'cursor', cursor: { kind: 'start' } } });
    expect(parseStartFrom('an-event-id')).toMatchObject({ ok: true, value: { kind: 'cursor', cursor: { kind: 'event', id: 'an-event-id' } } });
  });

  it('refuses a value shaped like a time that is not one, rather than take it for an event id', () => {
    expect(parseStartFrom('2024-05-01 12:00:00Z')).toMatchObject({ ok: false, errors: [{ field: 'startFrom' }] });
    expect(parseStartFrom('2024-13-01T00:00:00Z')).toMatchObject({ ok: false });
    expect(parseStartFrom(true)).toMatchObject({ ok: false });
  });
});
