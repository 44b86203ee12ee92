/**
 * An endpoint's health, the circuit breaker in front of every push subscription:
 * - `healthy`: its last attempt succeeded (or none has failed yet);
 * - `failing`: its most recent attempts failed, fewer in a row than the threshold;
 * - `suspended`: it failed `failureThreshold` times in a row. Its deliveries wait, spending none of their retry
 *   ladder, while one probe attempt at a time goes out at growing intervals; the first 2xx resumes it.
 */
export type EndpointHealth = 'healthy' | 'failing' | 'suspended';

export const endpointHealthStates: readonly EndpointHealth[] = ['healthy', 'failing', 'suspended'];

/** What an attempt's outcome tells the breaker: a 2xx, or a failure (any other answer, an error or a timeout). */
export type HealthSignal = 'succeeded' | 'failed';

/** The breaker's settings (HERALD_ENDPOINT_FAILURE_THRESHOLD, HERALD_ENDPOINT_PROBE_INTERVAL, …_MAX). */
export interface HealthThresholds {
  /** Failures in a row that suspend an endpoint. */
  readonly failureThreshold: number;
  /** The wait before the first probe of a suspended endpoint; it doubles after each failed probe. */
  readonly probeIntervalMs: number;
  /** The longest wait between probes. */
  readonly maxProbeIntervalMs: number;
}

export const defaultHealthThresholds: HealthThresholds = {
  failureThreshold: 10,
  probeIntervalMs: 15_000,
  maxProbeIntervalMs: 15 * 60_000,
};

/** One row of the breaker's transitions: in `from`, on `signal`, when `when` holds, the endpoint goes `to`. */
export interface HealthTransition {
  readonly from: EndpointHealth;
  readonly signal: HealthSignal;
  /** Whether the failures in a row (this one included) reach the threshold; absent: either way. */
  readonly atThreshold?: boolean;
  readonly to: EndpointHealth;
  /** The CloudEvent type published into Herald's own log for this change, if it is one worth announcing. */
  readonly announce?: HealthEventType;
}

/** The CloudEvent types Herald publishes about its subscribers' endpoints. */
export type HealthEventType = 'herald.subscription.suspended' | 'herald.subscription.resumed';

/**
 * Every transition, as data. `failing` is not announced: it comes and goes with each transient error, and an
 * announcement per flap would fill the owner's log; it shows on the subscription and in metrics instead.
 */
export const healthTransitions: readonly HealthTransition[] = [
  { from: 'healthy', signal: 'succeeded', to: 'healthy' },
  { from: 'healthy', signal: 'failed', atThreshold: false, to: 'failing' },
  { from: 'healthy', signal: 'failed', atThreshold: true, to: 'suspended', announce: 'herald.subscription.suspended' },
  { from: 'failing', signal: 'succeeded', to: 'healthy' },
  { from: 'failing', signal: 'failed', atThreshold: false, to: 'failing' },
  { from: 'failing', signal: 'failed', atThreshold: true, to: 'suspended', announce: 'herald.subscription.suspended' },
  { from: 'suspended', signal: 'succeeded', to: 'healthy', announce: 'herald.subscription.resumed' },
  { from: 'suspended', signal: 'failed', to: 'suspended' },
];

/**
 * The transition an outcome makes.
 * @param failuresInARow failures in a row including this outcome (0 after a success)
 * @example nextHealth('failing', 'failed', 10, defaultHealthThresholds).to // 'suspended'
 */
export function nextHealth(
  from: EndpointHealth,
  signal: HealthSignal,
  failuresInARow: number,
  thresholds: HealthThresholds,
): HealthTransition {
  const atThreshold = failuresInARow >= thresholds.failureThreshold;
  const transition = healthTransitions.find(
    (t) => t.from === from && t.signal === signal && (t.atThreshold === undefined || t.atThreshold === atThreshold),
  );
  if (!transition) throw new Error(`no health transition from ${from} on ${signal}`);
  return transition;
}

/**
 * How long to wait before the next probe: the first interval after a suspension, doubled after each failed
 * probe, never beyond the maximum.
 * @param previousMs the last wait, or null when the endpoint was just suspended
 */
export function nextProbeInterval(previousMs: number | null, thresholds: HealthThresholds): number {
  if (previousMs === null) return thresholds.probeIntervalMs;
  return Math.min(thresholds.maxProbeIntervalMs, Math.max(thresholds.probeIntervalMs, previousMs * 2));
}

/**
 * The resource health events are published under. A consumer reads its own endpoints' health through a grant on
 * this resource whose subjects are `"self"` (the events' subject is the owner); Herald grants that to every
 * owner (see docs/isolation.md).
 */
export const healthResource = 'urn:herald:endpoint-health';

/** A change of an endpoint's health, as published into Herald's own log. */
export interface HealthChange {
  readonly type: HealthEventType;
  readonly subscriptionId: number;
  /** The subscription's owner: the event's subject. */
  readonly consumer: string;
  readonly at: number;
  /** The error that suspended the endpoint; absent on resumption. */
  readonly error?: string | null;
  /** Failures in a row when it was suspended. */
  readonly failures?: number;
  /** When the next probe goes out (suspended only). */
  readonly nextProbeAt?: number | null;
}

/**
 * The CloudEvent for a health change. Its id names the subscription, the change and its time, so a change
 * announced twice (two processes, a retry) is stored once.
 */
export function healthEvent(change: HealthChange, baseUrl: string): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: `${change.subscriptionId}-${change.type.slice('herald.subscription.'.length)}-${change.at}`,
    source: `${baseUrl}/events/api/v1/subscriptions/${change.subscriptionId}`,
    type: change.type,
    subject: change.consumer,
    resource: healthResource,
    time: new Date(change.at).toISOString(),
    datacontenttype: 'application/json',
    data: {
      subscriptionId: change.subscriptionId,
      health: change.type === 'herald.subscription.suspended' ? 'suspended' : 'healthy',
      ...(change.error ? { lastError: change.error } : {}),
      ...(change.failures !== undefined ? { failures: change.failures } : {}),
      ...(change.nextProbeAt ? { nextProbeAt: new Date(change.nextProbeAt).toISOString() } : {}),
    },
  };
}
