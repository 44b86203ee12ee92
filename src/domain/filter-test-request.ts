import { parseSubscriptionRequest, type SubscriptionRequestRules, type SubscriptionSpec } from './subscription-request.js';
import { accepted, type FieldError, type Parsed } from './validation.js';

/** How many of the newest events `POST /filters/test` may examine, and how many it shows. */
export const filterTestLimits = {
  /** The largest `sample`: a test reads at most this many log rows. */
  maxSample: 10_000,
  defaultSample: 1_000,
  /** The matching events the answer shows: the first page of them, in log order. */
  shown: 100,
} as const;

/** `POST /filters/test`'s body, checked: the filters of a subscription, and how many of the newest events to try. */
export interface FilterTestRequest {
  readonly spec: SubscriptionSpec;
  readonly sample: number;
}

/**
 * Reads a filter test: a subscription request, refused as creating the subscription would refuse it (the same
 * rules, the same messages), and `sample`, an integer from 1 to 10,000.
 * @example parseFilterTestRequest({ resourceFilter: 'urn:altinn:resource:a', filters: [{ sql: 'EXISTS subject' }], sample: 500 }, rules)
 */
export function parseFilterTestRequest(body: unknown, rules: SubscriptionRequestRules): Parsed<FilterTestRequest> {
  const parsed = parseSubscriptionRequest(body, rules);
  const errors: FieldError[] = parsed.ok ? [] : [...parsed.errors];
  const given = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>).sample : undefined;
  const sample = given ?? filterTestLimits.defaultSample;
  if (typeof sample !== 'number' || !Number.isInteger(sample) || sample < 1 || sample > filterTestLimits.maxSample) {
    errors.push({ field: 'sample', message: `'sample' must be an integer from 1 to ${filterTestLimits.maxSample}.` });
  }
  if (!parsed.ok || errors.length > 0) return { ok: false, errors };
  return accepted({ spec: parsed.value, sample: sample as number });
}
