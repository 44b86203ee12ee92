import type { AttemptErrorKind, AttemptRecord } from './attempt-record.js';
import { nextAttemptDelay, parseRetryAfter } from './retry-schedule.js';

/**
 * What a receiver did with one attempt: answered with a status, or never answered. The sender fills in what
 * an attempt's record keeps (docs/delivery.md, "Attempts"): how long it took, the kept headers and start of the
 * body, or the kind of failure.
 */
export type AttemptResponse =
  | {
      readonly kind: 'answered';
      readonly statusCode: number;
      readonly retryAfter?: string | undefined;
      readonly durationMs?: number | undefined;
      readonly headers?: Readonly<Record<string, string>> | undefined;
      readonly body?: string | undefined;
      readonly bodyTruncated?: boolean | undefined;
    }
  | {
      readonly kind: 'failed';
      readonly error: string;
      readonly errorKind?: AttemptErrorKind | undefined;
      readonly durationMs?: number | undefined;
    };

/** The record of an attempt that started at `startedAt` and got `response`. */
export function recordOfAttempt(response: AttemptResponse, startedAt: number): AttemptRecord {
  const durationMs = Math.max(0, Math.round(response.durationMs ?? 0));
  if (response.kind === 'failed') {
    return { startedAt, durationMs, errorKind: response.errorKind ?? 'other', error: response.error };
  }
  return {
    startedAt,
    durationMs,
    answer: {
      statusCode: response.statusCode,
      headers: response.headers ?? {},
      body: response.body ?? '',
      bodyTruncated: response.bodyTruncated ?? false,
    },
  };
}

/** What becomes of a delivery after one attempt. */
export type AttemptOutcome =
  | { readonly kind: 'delivered'; readonly statusCode: number }
  | { readonly kind: 'retry'; readonly statusCode: number | null; readonly error: string; readonly nextAttemptAt: number }
  | { readonly kind: 'dead'; readonly statusCode: number | null; readonly error: string };

export interface AttemptDecision {
  readonly outcome: AttemptOutcome;
  /** The receiver answered 410 Gone: stop sending to this subscription. */
  readonly disableSubscription: boolean;
}

/**
 * Decides a delivery's fate after an attempt: 2xx is delivered; 410 Gone is final and disables the
 * subscription; anything else is retried on the schedule (a `Retry-After` on 429 or 503 sets the delay)
 * until no attempts are left, then the delivery is dead.
 * @param attemptsMade attempts including this one
 * @param random a number in [0, 1) for the jitter
 */
export function decideAttempt(
  response: AttemptResponse,
  attemptsMade: number,
  schedule: readonly number[],
  now: number,
  random: number,
): AttemptDecision {
  if (response.kind === 'answered' && response.statusCode >= 200 && response.statusCode < 300) {
    return { outcome: { kind: 'delivered', statusCode: response.statusCode }, disableSubscription: false };
  }
  const statusCode = response.kind === 'answered' ? response.statusCode : null;
  if (statusCode === 410) {
    return {
      outcome: { kind: 'dead', statusCode, error: 'The endpoint answered 410 Gone: the subscription is disabled.' },
      disableSubscription: true,
    };
  }
  const error = response.kind === 'failed' ? response.error : describeStatus(response.statusCode);
  const honoursRetryAfter = statusCode === 429 || statusCode === 503;
  const retryAfter =
    honoursRetryAfter && response.kind === 'answered' ? parseRetryAfter(response.retryAfter, now) : undefined;
  const delay = nextAttemptDelay(schedule, attemptsMade, retryAfter, random);
  if (delay === undefined) {
    return { outcome: { kind: 'dead', statusCode, error: `${error} No attempts left.` }, disableSubscription: false };
  }
  return { outcome: { kind: 'retry', statusCode, error, nextAttemptAt: now + delay }, disableSubscription: false };
}

function describeStatus(statusCode: number): string {
  if (statusCode >= 300 && statusCode < 400) {
    return `The endpoint answered ${statusCode}: redirects are not followed; subscribe with the final URL.`;
  }
  return `The endpoint answered ${statusCode}.`;
}
