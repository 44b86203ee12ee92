/**
 * Ordered delivery per key (docs/ordering.md). A push subscription may ask that events sharing a key reach its
 * endpoint one at a time, in log order: the key is the event's `subject`, or its `partitionkey` (the CloudEvents
 * Partitioning extension). Events without the key are delivered without ordering.
 */
export type DeliveryOrdering = 'none' | 'subject' | 'partitionkey';

export const deliveryOrderings: readonly DeliveryOrdering[] = ['none', 'subject', 'partitionkey'];

/**
 * What an ordered key does once one of its deliveries is dead-lettered: `skip` moves on to the key's next event,
 * `block` holds the key's later events until the dead letter is redriven.
 */
export type DeadLetterPolicy = 'skip' | 'block';

export const deadLetterPolicies: readonly DeadLetterPolicy[] = ['skip', 'block'];

/** What a subscription gets unless it asks: today's unordered delivery, and dead letters that stop nothing. */
export const defaultOrdering = { ordering: 'none', onDeadLetter: 'skip' } as const satisfies {
  ordering: DeliveryOrdering;
  onDeadLetter: DeadLetterPolicy;
};

export const orderingMessages = {
  ordering: `'ordering' must be one of ${deliveryOrderings.map((o) => `'${o}'`).join(', ')}.`,
  onDeadLetter: `'onDeadLetter' must be one of ${deadLetterPolicies.map((p) => `'${p}'`).join(', ')}.`,
  pull: "'ordering' applies to push subscriptions: a pull subscription's queue is read in log order already.",
  blockUnordered: "'onDeadLetter': 'block' needs an ordered subscription ('ordering': 'subject' or 'partitionkey').",
} as const;

/** Whether `value` names an ordering. */
export function isDeliveryOrdering(value: unknown): value is DeliveryOrdering {
  return deliveryOrderings.includes(value as DeliveryOrdering);
}

/** Whether `value` names a dead-letter policy. */
export function isDeadLetterPolicy(value: unknown): value is DeadLetterPolicy {
  return deadLetterPolicies.includes(value as DeadLetterPolicy);
}
