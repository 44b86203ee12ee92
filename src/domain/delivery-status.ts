import type { AttemptOutcome } from './delivery-attempt.js';

/**
 * A delivery's state: `pending` (not yet tried), `failed` (tried, a retry is scheduled), `delivered`, or
 * `dead` (out of attempts, or refused for good; redrivable).
 */
export type DeliveryStatus = 'pending' | 'failed' | 'delivered' | 'dead';

export const deliveryStatuses: readonly DeliveryStatus[] = ['pending', 'failed', 'delivered', 'dead'];

/** What changes a delivery's status: an attempt's outcome, or a redrive (its owner's or an operator's). */
export type DeliveryChange = AttemptOutcome['kind'] | 'redriven';

/** One row of the transitions: on `on`, a delivery in one of `from` goes `to`. */
export interface DeliveryTransition {
  readonly on: DeliveryChange;
  readonly from: readonly DeliveryStatus[];
  readonly to: DeliveryStatus;
}

/** Deliveries in these statuses have an attempt still to come: due now, or at their retry. */
export const waitingDeliveryStatuses: readonly DeliveryStatus[] = ['pending', 'failed'];

/** Deliveries in these statuses are done with: no attempt follows, and retention may remove them. */
export const finishedDeliveryStatuses: readonly DeliveryStatus[] = ['delivered', 'dead'];

/** Every allowed transition, as data. A change from a status no row names is refused: the row stays as it is. */
export const deliveryTransitions: readonly DeliveryTransition[] = [
  { on: 'delivered', from: waitingDeliveryStatuses, to: 'delivered' },
  { on: 'retry', from: waitingDeliveryStatuses, to: 'failed' },
  { on: 'dead', from: waitingDeliveryStatuses, to: 'dead' },
  // Back in the queue with a fresh retry ladder.
  { on: 'redriven', from: ['dead'], to: 'pending' },
];

/**
 * The one row of a change (each change has one).
 * @example deliveryTransition('retry').to // 'failed'
 */
export function deliveryTransition(on: DeliveryChange): DeliveryTransition {
  const transition = deliveryTransitions.find((t) => t.on === on);
  if (!transition) throw new Error(`no delivery transition on ${on}`);
  return transition;
}

/**
 * The status a change leads to, or `undefined` when it is refused from `from`.
 * @example nextDeliveryStatus('delivered', 'redriven') // undefined
 */
export function nextDeliveryStatus(from: DeliveryStatus, on: DeliveryChange): DeliveryStatus | undefined {
  const transition = deliveryTransition(on);
  return transition.from.includes(from) ? transition.to : undefined;
}
