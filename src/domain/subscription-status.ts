/**
 * Lifecycle of a subscription: `pending` until its endpoint answers the validation handshake, then `active`;
 * `disabled` when the endpoint answered 410 Gone or an operator disabled it; `inactive` for a pull
 * subscription nobody has read for a long time.
 */
export type SubscriptionStatus = 'pending' | 'active' | 'disabled' | 'inactive';

export const subscriptionStatuses: readonly SubscriptionStatus[] = ['pending', 'active', 'disabled', 'inactive'];

/**
 * Who disabled a subscription: an `operator` (only an operator enables it again), or its `endpoint`, which
 * answered 410 Gone (its owner may validate it again).
 */
export type DisabledBy = 'operator' | 'endpoint';

/** A push subscription has an endpoint Herald sends to; a pull subscription has a queue its owner reads. */
export type SubscriptionKind = 'push' | 'pull';

/** A push subscription waits for its handshake; a pull one has no endpoint to check and queues at once. */
export const initialSubscriptionStatus: Readonly<Record<SubscriptionKind, SubscriptionStatus>> = {
  push: 'pending',
  pull: 'active',
};

/**
 * Subscriptions in these statuses get a delivery for each event they match: an inactive pull subscription's
 * queue keeps filling (only its reader stopped).
 */
export const receivingStatuses: readonly SubscriptionStatus[] = ['active', 'inactive'];

/** Push subscriptions in these statuses are sent their deliveries (and their suspended endpoints probed). */
export const sendingStatuses: readonly SubscriptionStatus[] = ['active'];

/** What changes a subscription's status, each made by one store operation. */
export type SubscriptionChange =
  /** Its endpoint answered the validation handshake with a 2xx. */
  | 'validated'
  /** The handshake failed (another answer, an error, a timeout): it is tried again later. */
  | 'validationFailed'
  /** The endpoint answered the handshake with 410 Gone. */
  | 'validationGone'
  /** Its owner asked for the handshake again (POST …/validate). */
  | 'revalidationRequested'
  /** An operator disabled it (`herald subscriptions disable`). */
  | 'disabledByOperator'
  /** An operator enabled it (`herald subscriptions enable`). */
  | 'enabledByOperator'
  /** A pull subscription nobody read for the inactivity period. */
  | 'unreadTooLong'
  /** An inactive pull subscription is read again without a checkPoint. */
  | 'readAgain';

/** One row of the transitions: on `on`, a subscription of `kind` (absent: either) in one of `from` goes `to`. */
export interface SubscriptionTransition {
  readonly on: SubscriptionChange;
  readonly kind?: SubscriptionKind;
  readonly from: readonly SubscriptionStatus[];
  readonly to: SubscriptionStatus;
}

/**
 * Every allowed transition, as data. A change from a status no row names is refused: the store leaves the
 * subscription as it is. An operator's disable holds besides: no change but the operator's own touches it
 * (`heldByOperator`).
 */
export const subscriptionTransitions: readonly SubscriptionTransition[] = [
  { on: 'validated', kind: 'push', from: ['pending', 'active'], to: 'active' },
  // A failed check leaves the status as it was: an active subscription keeps receiving meanwhile.
  { on: 'validationFailed', kind: 'push', from: ['pending'], to: 'pending' },
  { on: 'validationFailed', kind: 'push', from: ['active'], to: 'active' },
  { on: 'validationGone', kind: 'push', from: ['pending', 'active'], to: 'disabled' },
  // An active subscription stays active (and keeps receiving events) while its endpoint is checked again.
  { on: 'revalidationRequested', kind: 'push', from: ['active'], to: 'active' },
  { on: 'revalidationRequested', kind: 'push', from: ['pending', 'disabled', 'inactive'], to: 'pending' },
  { on: 'disabledByOperator', from: subscriptionStatuses, to: 'disabled' },
  // A push endpoint may have changed hands while it was off: the handshake runs first (an active one stays).
  { on: 'enabledByOperator', kind: 'push', from: ['active'], to: 'active' },
  { on: 'enabledByOperator', kind: 'push', from: ['pending', 'disabled', 'inactive'], to: 'pending' },
  { on: 'enabledByOperator', kind: 'pull', from: subscriptionStatuses, to: 'active' },
  { on: 'unreadTooLong', kind: 'pull', from: ['active'], to: 'inactive' },
  { on: 'readAgain', kind: 'pull', from: ['inactive'], to: 'active' },
];

/**
 * The status a change leads to, or `undefined` when it is refused from `from`.
 * @example nextSubscriptionStatus('disabled', 'revalidationRequested', 'push') // 'pending'
 */
export function nextSubscriptionStatus(
  from: SubscriptionStatus,
  on: SubscriptionChange,
  kind: SubscriptionKind,
): SubscriptionStatus | undefined {
  return subscriptionTransitions.find((t) => t.on === on && (t.kind ?? kind) === kind && t.from.includes(from))?.to;
}

/** The rows of one change. */
export function transitionsOn(on: SubscriptionChange): readonly SubscriptionTransition[] {
  return subscriptionTransitions.filter((t) => t.on === on);
}

/**
 * Whether an operator disabled the subscription: then only an operator changes it; its owner's requests are
 * refused (409), and handshakes and 410s still under way leave it as it is.
 */
export function heldByOperator(subscription: { readonly status: SubscriptionStatus; readonly disabledBy: DisabledBy | null }): boolean {
  return subscription.status === 'disabled' && subscription.disabledBy === 'operator';
}
