import type { Authorizer } from '../../../domain/policy.js';
import type { SubscriptionSpec } from '../../../domain/subscription-request.js';
import { HttpProblem } from '../../problems.js';

/**
 * Refuses a subscription (or a filter test of one) its caller may not make: with a policy in force, grants are
 * per resource, so the subscription must name a resource the caller may subscribe to.
 */
export function refuseUnauthorizedSubscription(authorizer: Authorizer, consumer: string, spec: SubscriptionSpec): void {
  if (!authorizer.enforced) return;
  const resource = spec.resourceFilter;
  if (resource === null || !authorizer.allows({ consumer, action: 'subscribe', resource })) {
    throw new HttpProblem('forbidden', `Not authorized to create a subscription for resource ${resource ?? '(none)'}.`);
  }
}
