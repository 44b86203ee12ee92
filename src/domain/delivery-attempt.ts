import { nextAttemptDelay, parseRetryAfter } from './retry-schedule.js';

/** What a receiver did with one attempt: answered with a status, or never answered. */
export type AttemptResponse =
  | { readonly kind: 'answered'; readonly statusCode: number; readonly retryAfter?: string | undefined }
  | { readonly kind: 'failed'; readonly error: string };

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
