import type { Authorizer } from '../domain/policy.js';

/**
 * Why a consumer may not read an event now (a grant revoked since it subscribed), or undefined when it may.
 * Checked before every push, so a revoked grant stops deliveries at once.
 */
export function readRefusal(authorizer: Authorizer | undefined, consumer: string, payload: string): string | undefined {
  if (!authorizer?.enforced) return undefined;
  const event = JSON.parse(payload) as { resource: string; subject?: string; alternativesubject?: string };
  const allowed = authorizer.allows({
    consumer,
    action: 'read',
    resource: event.resource,
    event: { subject: event.subject ?? null, alternativesubject: event.alternativesubject ?? null },
  });
  // The reason shows in the subscriber's delivery listing: it names nothing of the event (not even its
  // resource, which a subscription by source alone never named), only that the policy refuses it.
  return allowed ? undefined : `Not authorized: ${consumer} may not read this event under the policy in force.`;
}
