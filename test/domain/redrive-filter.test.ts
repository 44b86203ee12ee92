import { describe, expect, it } from 'vitest';
import { parseRedriveFilter, redriveMessages } from '../../src/domain/redrive-filter.js';

describe('parseRedriveFilter', () => {
  it('takes no body, or an empty one, as every dead letter', () => {
    expect(parseRedriveFilter(undefined)).toEqual({ ok: true, value: {} });
    expect(parseRedriveFilter({})).toMatchObject({ ok: true, value: {} });
  });

  it('reads a time range of when they died, a status code or an error kind', () => {
    expect(parseRedriveFilter({ diedFrom: '2024-05-01T08:00:00Z', diedUntil: '2024-05-01T12:00:00+02:00', statusCode: 503 })).toEqual({
      ok: true,
      value: { diedFrom: Date.parse('2024-05-01T08:00:00Z'), diedUntil: Date.parse('2024-05-01T10:00:00Z'), statusCode: 503, errorKind: undefined },
    });
    expect(parseRedriveFilter({ errorKind: 'timeout' })).toMatchObject({ ok: true, value: { errorKind: 'timeout' } });
  });

  it.each([
    ['an array', [], 'body', redriveMessages.notAnObject],
    ['an unknown field', { statuscode: 503 }, 'statuscode', /not a field of a redrive filter/],
    ['a time without a zone', { diedFrom: '2024-05-01T08:00:00' }, 'diedFrom', /RFC 3339/],
    ['an empty range', { diedFrom: '2024-05-01T08:00:00Z', diedUntil: '2024-05-01T08:00:00Z' }, 'diedUntil', redriveMessages.untilBeforeFrom],
    ['a status code out of range', { statusCode: 600 }, 'statusCode', redriveMessages.statusCode],
    ['a fractional status code', { statusCode: 503.5 }, 'statusCode', redriveMessages.statusCode],
    ['an unknown error kind', { errorKind: 'gremlins' }, 'errorKind', redriveMessages.errorKind],
    ['both outcomes', { statusCode: 503, errorKind: 'timeout' }, 'errorKind', redriveMessages.bothOutcomes],
  ])('refuses %s, naming the field', (_name, body, field, message) => {
    const parsed = parseRedriveFilter(body);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toContainEqual({ field, message: typeof message === 'string' ? message : expect.stringMatching(message) });
  });
});
