import type { FastifyRequest } from 'fastify';
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
