import { healthResource } from './endpoint-health.js';
import { parseConsumer } from './identity.js';
import { accepted, type FieldError, type Parsed } from './validation.js';

/** What a grant allows: publishing events, creating subscriptions, and reading events (poll, pull, push). */
export type PolicyAction = 'publish' | 'subscribe' | 'read';
export const policyActions: readonly PolicyAction[] = ['publish', 'subscribe', 'read'];

/**
 * One grant: a consumer (or `*`, everyone) may take these actions on these resources (an exact URN, or a
 * prefix ending in `*`), optionally only for events about certain subjects — or, with `"self"`, only events
 * whose subject or alternative subject is the consumer itself (its whole identity: a `sub` token is
 * `/sub/…`, so it can never pass for a `/person/…` or `/organisation/…` subject).
 */
export interface Grant {
  readonly consumer: string;
  readonly actions: readonly PolicyAction[];
  readonly resources: readonly string[];
  readonly subjects?: readonly string[] | 'self';
}

export interface Policy {
  readonly grants: readonly Grant[];
}

/** What an action concerns: a resource, and for events their subject and alternative subject. */
export interface PolicyRequest {
  readonly consumer: string;
  readonly action: PolicyAction;
  readonly resource: string;
  /** Absent when the action is not about one event (creating a subscription). */
  readonly event?: { readonly subject: string | null; readonly alternativesubject: string | null };
}

/**
 * Whether any grant allows the request. Nothing is allowed unless granted. A subscription is allowed when any
 * grant for its resource exists (subject limits then apply to each event read through it).
 * @example isAllowed(policy, { consumer: '/org/ttd', action: 'publish', resource: 'urn:altinn:resource:a' })
 */
export function isAllowed(policy: Policy, request: PolicyRequest): boolean {
  return [...builtInGrants, ...policy.grants].some(
    (grant) =>
      (grant.consumer === '*' || grant.consumer === request.consumer) &&
      grant.actions.includes(request.action) &&
      grant.resources.some((pattern) => matchesResource(pattern, request.resource)) &&
      (request.event === undefined || subjectAllowed(grant, request.consumer, request.event)),
  );
}

/**
 * Whether a grant lets the consumer read every event of the resource, whatever its subjects: then which of
 * the resource's events it may read needs no look at each (a replay's count).
 * @example readsWholeResource(policy, '/org/ttd', 'urn:altinn:resource:a')
 */
export function readsWholeResource(policy: Policy, consumer: string, resource: string): boolean {
  return [...builtInGrants, ...policy.grants].some(
    (grant) =>
      (grant.consumer === '*' || grant.consumer === consumer) &&
      grant.actions.includes('read') &&
      grant.subjects === undefined &&
      grant.resources.some((pattern) => matchesResource(pattern, resource)),
  );
}

/**
 * What every policy grants without saying: each consumer may subscribe to and read the health of its own
 * endpoints, which Herald publishes with the owner as subject (docs/isolation.md).
 */
export const builtInGrants: readonly Grant[] = [
  { consumer: '*', actions: ['subscribe', 'read'], resources: [healthResource], subjects: 'self' },
];

function matchesResource(pattern: string, resource: string): boolean {
  return pattern.endsWith('*') ? resource.startsWith(pattern.slice(0, -1)) : pattern === resource;
}

function subjectAllowed(
  grant: Grant,
  consumer: string,
  event: { readonly subject: string | null; readonly alternativesubject: string | null },
): boolean {
  if (grant.subjects === undefined) return true;
  const allowed = grant.subjects === 'self' ? [consumer] : grant.subjects;
  return allowed.some((subject) => subject === event.subject || subject === event.alternativesubject);
}

const consumerMessage =
  'must be "*" or a consumer as Herald names it, such as "/org/ttd", "/user/1337", "/organisation/991825827" or "/sub/client-7".';

/** Validates a policy document (the parsed JSON of `HERALD_POLICY`), naming every mistake. */
export function parsePolicy(document: unknown): Parsed<Policy> {
  const errors: FieldError[] = [];
  const grants = (document as { grants?: unknown } | null)?.grants;
  if (typeof document !== 'object' || document === null || !Array.isArray(grants)) {
    return { ok: false, errors: [{ field: 'grants', message: 'A policy is an object with a "grants" array.' }] };
  }
  grants.forEach((grant: unknown, index: number) => {
    const at = (field: string) => `grants[${index}].${field}`;
    const g = (grant ?? {}) as Record<string, unknown>;
    // A consumer no token can be (a bare `sub`, `%2f` for `%2F`) would match nobody, silently.
    if (typeof g.consumer !== 'string' || (g.consumer !== '*' && parseConsumer(g.consumer) === undefined)) {
      errors.push({ field: at('consumer'), message: consumerMessage });
    }
    if (!Array.isArray(g.actions) || g.actions.length === 0 || !g.actions.every((a) => policyActions.includes(a))) {
      errors.push({ field: at('actions'), message: `must list one or more of ${policyActions.join(', ')}.` });
    }
    if (!Array.isArray(g.resources) || g.resources.length === 0 || !g.resources.every(isResourcePattern)) {
      errors.push({ field: at('resources'), message: 'must list resource URNs, each exact or ending in "*".' });
    }
    const subjects = g.subjects;
    if (
      subjects !== undefined &&
      subjects !== 'self' &&
      !(Array.isArray(subjects) && subjects.length > 0 && subjects.every((s) => typeof s === 'string' && s !== ''))
    ) {
      errors.push({ field: at('subjects'), message: 'must be "self" or a non-empty list of subjects.' });
    }
  });
  return errors.length > 0 ? { ok: false, errors } : accepted({ grants: grants as Grant[] });
}

function isResourcePattern(value: unknown): boolean {
  return typeof value === 'string' && (value === '*' || /^urn:[^\s*]+\*?$/.test(value));
}

/** Decides what callers may do: by a policy, or — with no policy configured — by scopes alone. */
export interface Authorizer {
  /** False when no policy is configured: every request the scopes allow is allowed. */
  readonly enforced: boolean;
  allows(request: PolicyRequest): boolean;
  /**
   * Whether the consumer may read every event of the resource, whatever its subjects (`readsWholeResource`).
   * Absent: not known, so each event is asked about.
   */
  readsWholeResource?(consumer: string, resource: string): boolean;
}

export const scopesOnly: Authorizer = { enforced: false, allows: () => true, readsWholeResource: () => true };

/** An authorizer over the current policy (which may be replaced while Herald runs). */
export function policyAuthorizer(current: () => Policy): Authorizer {
  return {
    enforced: true,
    allows: (request) => isAllowed(current(), request),
    readsWholeResource: (consumer, resource) => readsWholeResource(current(), consumer, resource),
  };
}
