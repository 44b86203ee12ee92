import { describe, expect, it } from 'vitest';
import { parsePullQuery, pullLimits } from '../../src/domain/pull-query.js';

const fieldsOf = (query: Record<string, unknown>) => {
  const parsed = parsePullQuery(query);
  return parsed.ok ? [] : parsed.errors.map((e) => e.field);
};

describe('parsePullQuery', () => {
  it('defaults to 2000 events, no wait and no checkpoint', () => {
    expect(parsePullQuery({})).toEqual({ ok: true, value: { limit: 2000, waitSeconds: 0, checkPoint: undefined } });
    expect(pullLimits).toEqual({ defaultLimit: 2000, maxLimit: 5000, maxWaitSeconds: 30 });
  });

  it.each([
    ['1', 1],
    ['2000', 2000],
    ['5000', 5000],
    ['0042', 42],
  ])('accepts the limit %j as %i', (limit, expected) => {
    const parsed = parsePullQuery({ limit });
    expect(parsed.ok && parsed.value.limit).toBe(expected);
  });

  it.each(['0', '5001', '-1', 'abc', '1.5', '', ' 5', '5 ', '+5', '1e3', '0x10', '9999999', 'Infinity', 'NaN'])(
    'refuses the limit %j',
    (limit) => {
      const parsed = parsePullQuery({ limit });
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) {
        expect(parsed.errors).toEqual([{ field: 'limit', message: "'limit' must be an integer from 1 to 5000." }]);
      }
    },
  );

  it.each([
    ['0', 0],
    ['1', 1],
    ['30', 30],
  ])('accepts the wait %j as %i seconds', (wait, expected) => {
    const parsed = parsePullQuery({ wait });
    expect(parsed.ok && parsed.value.waitSeconds).toBe(expected);
  });

  it.each(['31', '-1', 'abc', '1.5', '', '60', '1e1'])('refuses the wait %j', (wait) => {
    const parsed = parsePullQuery({ wait });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.errors).toEqual([{ field: 'wait', message: "'wait' must be a whole number of seconds from 0 to 30." }]);
    }
  });

  it('refuses values that are not single strings (a repeated parameter arrives as an array)', () => {
    expect(fieldsOf({ limit: ['1', '2'] })).toEqual(['limit']);
    expect(fieldsOf({ limit: 10 })).toEqual(['limit']);
    expect(fieldsOf({ wait: ['1'] })).toEqual(['wait']);
    expect(fieldsOf({ checkPoint: ['a', 'b'] })).toEqual(['checkPoint']);
    expect(fieldsOf({ checkPoint: 5 })).toEqual(['checkPoint']);
  });

  it('keeps the checkPoint as given, for the route to check', () => {
    const parsed = parsePullQuery({ checkPoint: 'c1.1.2.0.abc' });
    expect(parsed.ok && parsed.value.checkPoint).toBe('c1.1.2.0.abc');
  });

  it('passes an empty checkPoint on, to be refused as a malformed checkpoint like any other', () => {
    const parsed = parsePullQuery({ checkPoint: '' });
    expect(parsed.ok && parsed.value.checkPoint).toBe('');
  });

  it('names every field at fault at once', () => {
    expect(fieldsOf({ limit: '0', wait: '31', checkPoint: 1 })).toEqual(['limit', 'wait', 'checkPoint']);
  });

  it('ignores parameters it does not know', () => {
    expect(parsePullQuery({ limit: '5', other: 'x' })).toEqual({
      ok: true,
      value: { limit: 5, waitSeconds: 0, checkPoint: undefined },
    });
  });
});
