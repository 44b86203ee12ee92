import type { ValidEvent } from '../domain/cloudevent.js';
import type { DeliveryClaim, SubscriptionMatcher } from './store.js';

/** One delivery to write with an event: the event's place in the batch (0-based), the subscription, a claim. */
export type PlannedDelivery = readonly [eventIndex: number, subscriptionId: number, claimed: boolean];

/**
 * Which deliveries a batch of events gets, planned on the event loop before the append, for both engines:
 * one per subscription `match` names, asking `claim` about each. Of events with the same source and id only
 * the first can be stored, so only it is planned. The engines then write a planned row only for an event
 * that turned out new and a subscription still receiving (docs/storage.md, "Fan-out").
 */
export function planFanOut(
  events: readonly ValidEvent[],
  match: SubscriptionMatcher | undefined,
  claim: DeliveryClaim | undefined,
): PlannedDelivery[] {
  const planned: PlannedDelivery[] = [];
  if (!match) return planned;
  const seen = new Set<string>();
  events.forEach((event, eventIndex) => {
    const key = `${event.source}\n${event.id}`;
    if (seen.has(key)) return;
    seen.add(key);
    for (const subscriptionId of match(event)) {
      planned.push([eventIndex, subscriptionId, claim?.wants(subscriptionId) ?? false]);
    }
  });
  return planned;
}
