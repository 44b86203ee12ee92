import { parseDuration } from './duration.js';

/**
 * The delays between delivery attempts. Altinn's ladder by default: the first try, then 10 s, 30 s, 1 min,
 * 5 min, 10 min, 30 min, 1 h, 3 h, 6 h, 12 h and 12 h — 12 attempts over about 35 hours.
 */
export const altinnRetrySchedule: readonly number[] = [
  '10s',
  '30s',
  '1m',
  '5m',
  '10m',
  '30m',
  '1h',
  '3h',
  '6h',
  '12h',
  '12h',
].map((d) => parseDuration(d) as number);

/** Retry-After values are honoured up to this bound, so a receiver cannot park a delivery for ever. */
export const maxRetryAfterMs = 24 * 3_600_000;

/** How much each delay is spread (±), so deliveries that failed together do not retry together. */
export const retryJitter = 0.1;

/**
 * Parses `HERALD_RETRY_SCHEDULE`, e.g. `1s,1s,2s`: the delays after the first, second, … failed attempt.
 * @returns `undefined` when any part is not a duration.
 */
export function parseRetrySchedule(text: string): number[] | undefined {
  const delays = text.split(',').map((part) => parseDuration(part));
  return delays.length > 0 && delays.every((d) => d !== undefined) ? (delays as number[]) : undefined;
}

/** Every attempt there will be: the first and one after each delay. */
export function maxAttempts(schedule: readonly number[]): number {
  return schedule.length + 1;
}

/**
 * When to try again after `attemptsMade` failed attempts, or `undefined` when none are left (dead letter).
 * A `Retry-After` the receiver sent (429/503) lengthens the ladder's delay, up to 24 hours; it never shortens it.
 * @param random a number in [0, 1) that spreads the delay by the jitter
 */
export function nextAttemptDelay(
  schedule: readonly number[],
  attemptsMade: number,
  retryAfterMs: number | undefined,
  random: number,
): number | undefined {
  const base = schedule[attemptsMade - 1];
  if (base === undefined) return undefined;
  const ladder = Math.round(base * (1 + retryJitter * (2 * random - 1)));
  // A receiver may ask for more time, never for less: `Retry-After: 0` must not burn every attempt at once.
  if (retryAfterMs !== undefined) return Math.min(Math.max(retryAfterMs, ladder), Math.max(maxRetryAfterMs, ladder));
  return ladder;
}

/** An HTTP-date (RFC 9110 §5.6.7) as IMF-fixdate, or in the obsolete RFC 850 form. */
const gmtDatePattern = /^[a-z]{3,9}, \d{2}[ -][a-z]{3}[ -]\d{2}(?:\d{2})? \d{2}:\d{2}:\d{2} GMT$/i;
/** An HTTP-date in the obsolete asctime form, which recipients must also read: it names no zone but means GMT. */
const asctimeDatePattern = /^[a-z]{3} [a-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/i;

/**
 * Reads a `Retry-After` header: delay-seconds or an HTTP date.
 * @returns milliseconds from `now`, or `undefined` when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // HTTP dates only: Date.parse alone takes `1.5` or `-5` for dates in 2001 (a retry at once), and reads an
  // asctime date as local time.
  const date = gmtDatePattern.test(trimmed)
    ? Date.parse(trimmed)
    : asctimeDatePattern.test(trimmed)
      ? Date.parse(`${trimmed} GMT`)
      : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
