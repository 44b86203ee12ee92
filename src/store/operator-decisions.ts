import { defaultDisableReason } from '../domain/disable-request.js';
import { heldByOperator, type SubscriptionStatus } from '../domain/subscription-status.js';
import type { SubscriptionRecord } from './records.js';
import type { Store } from './store.js';

/**
 * What became of an operator's disable: `notFound`; `alreadyDisabled` by an operator (left as it is, so its
 * last error still says why the first operator disabled it); or `disabled` now, from the status it `was` in
 * (`endpoint`: disabled by its endpoint's 410 Gone, which becomes the operator's decision).
 */
export type DisableOutcome =
  | { readonly kind: 'notFound' }
  | { readonly kind: 'alreadyDisabled'; readonly subscription: SubscriptionRecord }
  | { readonly kind: 'disabled'; readonly subscription: SubscriptionRecord; readonly was: SubscriptionStatus | 'endpoint' };

/** What became of an operator's enable. */
export type EnableOutcome = { readonly kind: 'notFound' } | { readonly kind: 'enabled'; readonly subscription: SubscriptionRecord };

/**
 * An operator disables a subscription, whoever owns it: `herald subscriptions disable` and
 * `POST /subscriptions/{id}/disable` both come here (docs/operators.md). The statuses it may leave and the one
 * it reaches are the transitions' (`disabledByOperator`, domain/subscription-status.ts).
 */
export async function disableSubscription(store: Store, id: number, reason: string | undefined): Promise<DisableOutcome> {
  const before = await store.subscriptions.get(id);
  if (!before) return { kind: 'notFound' };
  if (heldByOperator(before)) return { kind: 'alreadyDisabled', subscription: before };
  const was = before.status === 'disabled' ? 'endpoint' : before.status;
  const subscription = await store.subscriptions.disable(id, reason ?? defaultDisableReason);
  if (subscription) return { kind: 'disabled', subscription, was };
  // Deleted meanwhile, or another operator was first.
  const now = await store.subscriptions.get(id);
  return now ? { kind: 'alreadyDisabled', subscription: now } : { kind: 'notFound' };
}

/**
 * An operator lets a subscription receive again (`herald subscriptions enable`, `POST /subscriptions/{id}/enable`):
 * a push subscription runs the validation handshake first (an active one stays active meanwhile), a pull one is
 * active at once (`enabledByOperator`).
 * @param now Herald's clock: a push subscription's handshake is due then
 */
export async function enableSubscription(store: Store, id: number, now: number): Promise<EnableOutcome> {
  const subscription = await store.subscriptions.enable(id, now);
  return subscription ? { kind: 'enabled', subscription } : { kind: 'notFound' };
}
