import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/domain/duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['5m', 300_000],
    ['12h', 43_200_000],
    ['30d', 2_592_000_000],
    ['0s', 0],
    ['1.5s', 1_500],
    ['0.5m', 30_000],
    [' 10s ', 10_000],
  ])("reads '%s' as %i ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it('rounds to whole milliseconds', () => {
    expect(parseDuration('1.4ms')).toBe(1);
    expect(parseDuration('0.0001s')).toBe(0);
  });

  it.each(['', '10', 's', '-5s', '5 s', '5S', '5w', '1e3s', '10sec', '.5s', '5.s', '1h30m', 'ms'])(
    "refuses '%s'",
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );
});
