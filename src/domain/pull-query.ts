import { accepted, type FieldError, type Parsed } from './validation.js';

export const pullLimits = { defaultLimit: 2000, maxLimit: 5000, maxWaitSeconds: 30 } as const;

/** A read of a pull subscription's queue. */
export interface PullQuery {
  readonly limit: number;
  readonly checkPoint: string | undefined;
  /** Seconds to hold the request open when the queue is empty (long polling). */
  readonly waitSeconds: number;
}

/**
 * Validates `GET /subscriptions/{id}/events` parameters: `limit` 1 to 5000 (default 2000), `wait` 0 to 30
 * seconds (default 0), and a single `checkPoint` string if one is given (its content is the route's to check).
 * Anything else is refused, not clamped.
 */
export function parsePullQuery(query: Readonly<Record<string, unknown>>): Parsed<PullQuery> {
  const errors: FieldError[] = [];
  const limit = integerIn(query.limit, 1, pullLimits.maxLimit, pullLimits.defaultLimit);
  if (limit === undefined) errors.push({ field: 'limit', message: `'limit' must be an integer from 1 to ${pullLimits.maxLimit}.` });
  const waitSeconds = integerIn(query.wait, 0, pullLimits.maxWaitSeconds, 0);
  if (waitSeconds === undefined) {
    errors.push({ field: 'wait', message: `'wait' must be a whole number of seconds from 0 to ${pullLimits.maxWaitSeconds}.` });
  }
  const checkPoint = query.checkPoint;
  // An empty checkPoint is passed on: it is a malformed checkpoint, refused as `events:invalidCheckpoint` like
  // every other one, so a client matching on the code sees one answer for every bad checkpoint.
  if (checkPoint !== undefined && typeof checkPoint !== 'string') {
    errors.push({ field: 'checkPoint', message: "'checkPoint' must be the value from your previous call, or omitted." });
  }
  if (errors.length > 0 || limit === undefined || waitSeconds === undefined) return { ok: false, errors };
  return accepted({ limit, waitSeconds, checkPoint: checkPoint as string | undefined });
}

function integerIn(value: unknown, min: number, max: number, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^\d{1,6}$/.test(value)) return undefined;
  const number = Number(value);
  return number >= min && number <= max ? number : undefined;
}
