import type { FastifyRequest } from 'fastify';
import { heldByOperator } from '../../../domain/subscription-status.js';
import type { SubscriptionRecord } from '../../../store/records.js';
import type { Store } from '../../../store/store.js';
import { callerOf } from '../../auth/authenticate.js';
import { HttpProblem } from '../../problems.js';

/**
 * The subscription `{id}` names, if the caller created it. Another consumer's subscription is a 404, exactly
 * like one that does not exist, so ids reveal nothing.
 */
export async function ownedSubscription(store: Store, request: FastifyRequest): Promise<SubscriptionRecord> {
  const raw = (request.params as { id?: string }).id ?? '';
  const id = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
  const subscription = Number.isSafeInteger(id) ? await store.subscriptions.get(id) : undefined;
  if (!subscription || subscription.createdBy !== callerOf(request).consumer) {
    throw new HttpProblem('notFound', `You have no subscription with id '${raw}'.`);
  }
  return subscription;
}

/**
 * Refuses its owner's request to change a subscription an operator disabled: only an operator changes it
 * (`herald subscriptions enable`). The detail gives the operator's reason.
 */
export function refuseIfOperatorDisabled(subscription: SubscriptionRecord): void {
  if (!heldByOperator(subscription)) return;
  const reason = (subscription.lastError ?? 'none given').replace(/\.$/, '');
  throw new HttpProblem(
    'disabledByOperator',
    `An operator disabled subscription ${subscription.id}, with the reason: ${reason}. Only an operator can enable it again.`,
  );
}

/**
 * The subscription `{id}` names, if the caller created it and may change it: one an operator disabled is a
 * 409 (`refuseIfOperatorDisabled`).
 */
export async function changeableSubscription(store: Store, request: FastifyRequest): Promise<SubscriptionRecord> {
  const subscription = await ownedSubscription(store, request);
  refuseIfOperatorDisabled(subscription);
  return subscription;
}

/**
 * Answers a change the store refused because an operator disabled the subscription after it was read: the
 * 409, from the row as it is now (or the 404, if it has gone).
 */
export async function refusedChange(store: Store, id: number): Promise<never> {
  const now = await store.subscriptions.get(id);
  if (now) refuseIfOperatorDisabled(now);
  throw new HttpProblem('notFound', `You have no subscription with id '${id}'.`);
}
