import { afterEach, describe, expect, it } from 'vitest';
import {
  altinnRetrySchedule,
  maxAttempts,
  maxRetryAfterMs,
  nextAttemptDelay,
  parseRetryAfter,
  parseRetrySchedule,
  retryJitter,
} from '../../src/domain/retry-schedule.js';

const second = 1_000;
const minute = 60 * second;
const hour = 60 * minute;
/** A `random` of 0.5 spreads the delay by nothing. */
const noJitter = 0.5;

describe('altinnRetrySchedule', () => {
  it("is Altinn's ladder: 10 s, 30 s, 1 min, 5 min, 10 min, 30 min, 1 h, 3 h, 6 h, 12 h, 12 h", () => {
    expect(altinnRetrySchedule).toEqual([
      10 * second,
      30 * second,
      1 * minute,
      5 * minute,
      10 * minute,
      30 * minute,
      1 * hour,
      3 * hour,
      6 * hour,
      12 * hour,
      12 * hour,
    ]);
  });

  it('gives 12 attempts: the first try and one after each of its 11 delays', () => {
    expect(altinnRetrySchedule).toHaveLength(11);
    expect(maxAttempts(altinnRetrySchedule)).toBe(12);
  });

  it('spreads its attempts over about 35 hours', () => {
    const total = altinnRetrySchedule.reduce((sum, delay) => sum + delay, 0);
    expect(total).toBe(125_200 * second);
    expect(total / hour).toBeGreaterThan(34.5);
    expect(total / hour).toBeLessThan(35);
  });
});

describe('parseRetrySchedule', () => {
  it('reads comma-separated durations as the delays in milliseconds', () => {
    expect(parseRetrySchedule('10s,30s,1m')).toEqual([10 * second, 30 * second, minute]);
  });

  it('reads every duration unit and tolerates spaces around the parts', () => {
    expect(parseRetrySchedule(' 500ms , 2s,1m , 1h,1d ')).toEqual([500, 2 * second, minute, hour, 24 * hour]);
  });

  it('reads a single delay as a schedule of two attempts', () => {
    const schedule = parseRetrySchedule('1s');
    expect(schedule).toEqual([second]);
    expect(maxAttempts(schedule ?? [])).toBe(2);
  });

  it("reads Altinn's ladder written out as the same schedule as altinnRetrySchedule", () => {
    expect(parseRetrySchedule('10s,30s,1m,5m,10m,30m,1h,3h,6h,12h,12h')).toEqual(altinnRetrySchedule);
  });

  it.each(['', ' ', '10s,,30s', '10s,', '10', 'ten seconds', '10s,30x', '-1s', '1s;2s', '1w'])(
    'refuses %j, which is not a list of durations',
    (text) => {
      expect(parseRetrySchedule(text)).toBeUndefined();
    },
  );
});

describe('maxAttempts', () => {
  it('is one more than the number of delays', () => {
    expect(maxAttempts([])).toBe(1);
    expect(maxAttempts([second, second, 2 * second])).toBe(4);
  });
});

describe('nextAttemptDelay', () => {
  const schedule = [10 * second, 30 * second, minute];

  it('waits the delay of the ladder step after each failed attempt', () => {
    expect(nextAttemptDelay(schedule, 1, undefined, noJitter)).toBe(10 * second);
    expect(nextAttemptDelay(schedule, 2, undefined, noJitter)).toBe(30 * second);
    expect(nextAttemptDelay(schedule, 3, undefined, noJitter)).toBe(minute);
  });

  it('leaves no delay (dead letter) once every attempt has been made', () => {
    expect(nextAttemptDelay(schedule, maxAttempts(schedule), undefined, noJitter)).toBeUndefined();
    expect(nextAttemptDelay(schedule, maxAttempts(schedule) + 1, undefined, noJitter)).toBeUndefined();
    expect(nextAttemptDelay(altinnRetrySchedule, 11, undefined, noJitter)).toBe(12 * hour);
    expect(nextAttemptDelay(altinnRetrySchedule, 12, undefined, noJitter)).toBeUndefined();
  });

  it('leaves no delay for an empty schedule: one attempt only', () => {
    expect(nextAttemptDelay([], 1, undefined, noJitter)).toBeUndefined();
  });

  it('spreads the delay by at most 10% either way', () => {
    expect(retryJitter).toBe(0.1);
    expect(nextAttemptDelay(schedule, 1, undefined, 0)).toBe(9 * second);
    expect(nextAttemptDelay(schedule, 1, undefined, 0.999_999_999)).toBe(11 * second);
    expect(nextAttemptDelay(schedule, 1, undefined, 0.25)).toBe(9.5 * second);
    expect(nextAttemptDelay(schedule, 1, undefined, 0.75)).toBe(10.5 * second);
  });

  it('keeps every jittered delay within ±10% of the ladder, for every step and many random numbers', () => {
    for (let attempt = 1; attempt <= altinnRetrySchedule.length; attempt++) {
      const base = altinnRetrySchedule[attempt - 1] ?? 0;
      for (let i = 0; i < 200; i++) {
        const delay = nextAttemptDelay(altinnRetrySchedule, attempt, undefined, i / 200) ?? Number.NaN;
        expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.9));
        expect(delay).toBeLessThanOrEqual(Math.ceil(base * 1.1));
        expect(Number.isInteger(delay)).toBe(true);
      }
    }
  });

  it('grows with the random number, so deliveries that failed together spread out', () => {
    const delays = [0, 0.2, 0.4, 0.6, 0.8].map((r) => nextAttemptDelay(schedule, 2, undefined, r) ?? 0);
    expect([...delays].sort((a, b) => a - b)).toEqual(delays);
    expect(new Set(delays).size).toBe(delays.length);
  });

  it("waits for a Retry-After longer than the ladder's delay, without jitter", () => {
    expect(nextAttemptDelay(schedule, 1, 120 * second, 0)).toBe(120 * second);
  });

  it("never waits less than the ladder's delay, so Retry-After: 0 cannot burn every attempt at once", () => {
    const ladder = nextAttemptDelay(schedule, 3, undefined, 0.9);
    expect(nextAttemptDelay(schedule, 3, 0, 0.9)).toBe(ladder);
    expect(nextAttemptDelay(schedule, 3, -5 * second, 0.9)).toBe(ladder);
    expect(nextAttemptDelay(schedule, 3, 1, 0.9)).toBe(ladder);
  });

  it('caps a Retry-After at 24 hours, so a receiver cannot park a delivery for ever', () => {
    expect(maxRetryAfterMs).toBe(24 * hour);
    expect(nextAttemptDelay(schedule, 1, 24 * hour, noJitter)).toBe(24 * hour);
    expect(nextAttemptDelay(schedule, 1, 24 * hour + 1, noJitter)).toBe(24 * hour);
    expect(nextAttemptDelay(schedule, 1, 365 * 24 * hour, noJitter)).toBe(24 * hour);
  });

  it('leaves no delay once attempts are exhausted, whatever Retry-After says', () => {
    expect(nextAttemptDelay(schedule, maxAttempts(schedule), second, noJitter)).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T12:00:00Z');

  it('reads delay-seconds as milliseconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120 * second);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 5 ', now)).toBe(5 * second);
  });

  it('reads a very large delay-seconds without failing (the schedule caps it)', () => {
    expect(parseRetryAfter('999999999999', now)).toBe(999_999_999_999 * second);
  });

  it('reads an IMF-fixdate as the time from now until then', () => {
    expect(parseRetryAfter('Wed, 01 Jan 2025 12:01:30 GMT', now)).toBe(90 * second);
  });

  it('reads the obsolete RFC 850 date form', () => {
    expect(parseRetryAfter('Wednesday, 01-Jan-25 13:00:00 GMT', now)).toBe(hour);
  });

  describe('in a time zone other than GMT', () => {
    const zone = process.env.TZ;
    afterEach(() => {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    });

    it('reads the obsolete asctime date form as GMT, not local time', () => {
      process.env.TZ = 'America/New_York';
      expect(parseRetryAfter('Wed Jan  1 12:00:10 2025', now)).toBe(10 * second);
    });
  });

  it('reads a date in the past as no delay', () => {
    expect(parseRetryAfter('Tue, 31 Dec 2024 12:00:00 GMT', now)).toBe(0);
  });

  it('reads an absent header as no instruction', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it.each(['', 'soon', 'later please', '1.5', '-5', '+5', '1e3', '0x10', '12abc', '2025-01-01T12:01:00Z'])(
    'reads the unreadable %j as no instruction, so the ladder decides',
    (value) => {
      expect(parseRetryAfter(value, now)).toBeUndefined();
    },
  );
});
