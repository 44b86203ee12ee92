import type { FastifyRequest } from 'fastify';
import { isOperator, scopes } from '../../../domain/identity.js';
import { heldByOperator } from '../../../domain/subscription-status.js';
import type { SubscriptionRecord } from '../../../store/records.js';
import type { Store } from '../../../store/store.js';
import { callerOf } from '../../auth/authenticate.js';
import { HttpProblem } from '../../problems.js';

/**
 * The scopes of the routes an operator uses on anyone's subscriptions (reading, redrive, resend): a token with
 * the operator scope alone needs no subscribe scope for them.
 */
export const readerScopes = { config: { scopes: [scopes.subscribe, scopes.operator] } } as const;

/**
 * The subscription `{id}` names, if the caller created it. Another consumer's subscription is a 404, exactly
 * like one that does not exist, so ids reveal nothing.
 */
export async function ownedSubscription(store: Store, request: FastifyRequest): Promise<SubscriptionRecord> {
  return namedSubscription(store, request, (subscription) => subscription.createdBy === callerOf(request).consumer);
}

/**
 * The subscription `{id}` names, if the caller created it or is an operator (docs/operators.md): for reading
 * it, its deliveries and attempts, and redriving and resending, which an operator may do for any consumer.
 * To anyone else another consumer's subscription is a 404, as with `ownedSubscription`.
 */
export async function readableSubscription(store: Store, request: FastifyRequest): Promise<SubscriptionRecord> {
  const caller = callerOf(request);
  return namedSubscription(store, request, (subscription) => subscription.createdBy === caller.consumer || isOperator(caller));
}

/**
 * The subscription `{id}` names, if it exists and `reachable` says the caller may reach it: anything else
 * (no such id, an id that cannot be one, one out of reach) is the same 404.
 */
async function namedSubscription(
  store: Store,
  request: FastifyRequest,
  reachable: (subscription: SubscriptionRecord) => boolean,
): Promise<SubscriptionRecord> {
  const raw = (request.params as { id?: string }).id ?? '';
  const id = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
  const subscription = Number.isSafeInteger(id) ? await store.subscriptions.get(id) : undefined;
  if (!subscription || !reachable(subscription)) {
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
 * As `changeableSubscription`, for the actions an operator may take on anyone's subscription (redrive,
 * resend): the caller created it or is an operator. One an operator disabled is a 409 for operators too:
 * they enable it first.
 */
export async function redrivableSubscription(store: Store, request: FastifyRequest): Promise<SubscriptionRecord> {
  const subscription = await readableSubscription(store, request);
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
