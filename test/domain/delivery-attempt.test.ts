import { describe, expect, it } from 'vitest';
import { decideAttempt, type AttemptResponse } from '../../src/domain/delivery-attempt.js';
import { altinnRetrySchedule, maxAttempts, maxRetryAfterMs } from '../../src/domain/retry-schedule.js';

const second = 1_000;
const schedule = [10 * second, 30 * second, 60 * second];
const lastAttempt = maxAttempts(schedule);
const now = Date.parse('2025-01-01T12:00:00Z');
/** A `random` of 0.5 spreads the delay by nothing. */
const noJitter = 0.5;

const answered = (statusCode: number, retryAfter?: string): AttemptResponse => ({
  kind: 'answered',
  statusCode,
  retryAfter,
});
const networkFailure: AttemptResponse = { kind: 'failed', error: 'connect ECONNREFUSED 127.0.0.1:9' };

const decide = (response: AttemptResponse, attemptsMade = 1, random = noJitter) =>
  decideAttempt(response, attemptsMade, schedule, now, random);

describe('decideAttempt: success', () => {
  it.each([200, 201, 202, 204, 299])('marks a delivery answered %i as delivered', (statusCode) => {
    expect(decide(answered(statusCode))).toEqual({
      outcome: { kind: 'delivered', statusCode },
      disableSubscription: false,
    });
  });

  it('marks a 2xx on the last attempt as delivered, not dead', () => {
    expect(decide(answered(200), lastAttempt).outcome).toEqual({ kind: 'delivered', statusCode: 200 });
  });
});

describe('decideAttempt: 410 Gone', () => {
  it('makes the delivery dead at once and disables the subscription', () => {
    const decision = decide(answered(410));
    expect(decision.disableSubscription).toBe(true);
    expect(decision.outcome).toEqual({
      kind: 'dead',
      statusCode: 410,
      error: 'The endpoint answered 410 Gone: the subscription is disabled.',
    });
  });

  it('ignores a Retry-After on a 410', () => {
    expect(decide(answered(410, '5')).outcome.kind).toBe('dead');
  });
});

describe('decideAttempt: failures are retried on the schedule', () => {
  it.each([
    [301, 'redirects are not followed'],
    [302, 'redirects are not followed'],
    [307, 'redirects are not followed'],
    [400, 'The endpoint answered 400.'],
    [401, 'The endpoint answered 401.'],
    [404, 'The endpoint answered 404.'],
    [408, 'The endpoint answered 408.'],
    [429, 'The endpoint answered 429.'],
    [500, 'The endpoint answered 500.'],
    [502, 'The endpoint answered 502.'],
    [503, 'The endpoint answered 503.'],
    [100, 'The endpoint answered 100.'],
  ])('retries a delivery answered %i after the first step of the ladder', (statusCode, error) => {
    const decision = decide(answered(statusCode));
    expect(decision.disableSubscription).toBe(false);
    expect(decision.outcome).toEqual({
      kind: 'retry',
      statusCode,
      error: expect.stringContaining(error),
      nextAttemptAt: now + 10 * second,
    });
  });

  it('retries a delivery whose attempt got no answer, keeping the error and no status', () => {
    expect(decide(networkFailure)).toEqual({
      outcome: {
        kind: 'retry',
        statusCode: null,
        error: 'connect ECONNREFUSED 127.0.0.1:9',
        nextAttemptAt: now + 10 * second,
      },
      disableSubscription: false,
    });
  });

  it('tells the subscriber to use the final URL when the endpoint redirects', () => {
    const outcome = decide(answered(308)).outcome;
    expect(outcome.kind === 'retry' && outcome.error).toBe(
      'The endpoint answered 308: redirects are not followed; subscribe with the final URL.',
    );
  });

  it('waits the ladder step that follows the number of attempts made', () => {
    const at = (attemptsMade: number) => {
      const outcome = decide(answered(500), attemptsMade).outcome;
      return outcome.kind === 'retry' ? outcome.nextAttemptAt - now : undefined;
    };
    expect([at(1), at(2), at(3)]).toEqual([10 * second, 30 * second, 60 * second]);
  });

  it('spreads the retry time by the jitter', () => {
    const at = (random: number) => {
      const outcome = decide(answered(500), 1, random).outcome;
      return outcome.kind === 'retry' ? outcome.nextAttemptAt - now : undefined;
    };
    expect(at(0)).toBe(9 * second);
    expect(at(0.999_999_999)).toBe(11 * second);
  });

  it.each([
    ['a 500', answered(500), 500, 'The endpoint answered 500. No attempts left.'],
    ['a 404', answered(404), 404, 'The endpoint answered 404. No attempts left.'],
    ['a redirect', answered(302), 302, 'redirects are not followed; subscribe with the final URL. No attempts left.'],
    ['a network failure', networkFailure, null, 'connect ECONNREFUSED 127.0.0.1:9 No attempts left.'],
  ] as const)('makes the delivery dead after %s on the last attempt', (_what, response, statusCode, error) => {
    const decision = decide(response, lastAttempt);
    expect(decision.disableSubscription).toBe(false);
    expect(decision.outcome).toEqual({ kind: 'dead', statusCode, error: expect.stringContaining(error) });
  });

  it("retries through all 12 attempts of Altinn's ladder, then gives up", () => {
    const kinds = Array.from({ length: 12 }, (_, i) =>
      decideAttempt(answered(500), i + 1, altinnRetrySchedule, now, noJitter).outcome.kind,
    );
    expect(kinds).toEqual([...Array<string>(11).fill('retry'), 'dead']);
  });
});

describe('decideAttempt: Retry-After', () => {
  it.each([429, 503])('honours Retry-After in seconds on a %i', (statusCode) => {
    const outcome = decide(answered(statusCode, '120')).outcome;
    expect(outcome).toMatchObject({ kind: 'retry', statusCode, nextAttemptAt: now + 120 * second });
  });

  it.each([429, 503])('honours Retry-After as an HTTP date on a %i', (statusCode) => {
    const outcome = decide(answered(statusCode, 'Wed, 01 Jan 2025 12:05:00 GMT')).outcome;
    expect(outcome).toMatchObject({ kind: 'retry', nextAttemptAt: now + 5 * 60 * second });
  });

  it.each([500, 502, 504, 400, 404, 301])('ignores Retry-After on a %i and follows the ladder', (statusCode) => {
    const outcome = decide(answered(statusCode, '120')).outcome;
    expect(outcome).toMatchObject({ kind: 'retry', nextAttemptAt: now + 10 * second });
  });

  it('follows the ladder when a 429 sends no Retry-After or an unreadable one', () => {
    expect(decide(answered(429)).outcome).toMatchObject({ nextAttemptAt: now + 10 * second });
    expect(decide(answered(429, 'soon')).outcome).toMatchObject({ nextAttemptAt: now + 10 * second });
    expect(decide(answered(429, '1.5')).outcome).toMatchObject({ nextAttemptAt: now + 10 * second });
  });

  it('caps a Retry-After at 24 hours', () => {
    expect(decide(answered(503, String(7 * 24 * 3600))).outcome).toMatchObject({
      nextAttemptAt: now + maxRetryAfterMs,
    });
  });

  it('makes the delivery dead on the last attempt even when a 429 asks to retry later', () => {
    expect(decide(answered(429, '1'), lastAttempt).outcome).toEqual({
      kind: 'dead',
      statusCode: 429,
      error: 'The endpoint answered 429. No attempts left.',
    });
  });
});
