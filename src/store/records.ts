import type { AttemptErrorKind } from '../domain/attempt-record.js';
import type { DeadLetterPolicy, DeliveryOrdering } from '../domain/delivery-ordering.js';
import type { DeliveryStatus } from '../domain/delivery-status.js';
import type { EndpointHealth } from '../domain/endpoint-health.js';
import type { SubscriptionSpec } from '../domain/subscription-request.js';
import type { DisabledBy, SubscriptionStatus } from '../domain/subscription-status.js';

export type { AttemptOutcome } from '../domain/delivery-attempt.js';

export interface SubscriptionRecord extends SubscriptionSpec {
  readonly id: number;
  readonly ordering: DeliveryOrdering;
  readonly onDeadLetter: DeadLetterPolicy;
  readonly consumer: string;
  readonly createdBy: string;
  /** The Standard Webhooks signing secret (`whsec_…`): the newest, when it has been rotated. */
  readonly secret: string;
  /** The secret the last rotation replaced: it signs too until `previousSecretUntil` (docs/delivery.md). */
  readonly previousSecret: string | null;
  readonly previousSecretUntil: number | null;
  /** Counts rotations: a copy of the subscription with an older number must be read again before signing. */
  readonly secretVersion: number;
  readonly status: SubscriptionStatus;
  readonly createdAt: number;
  readonly validatedAt: number | null;
  readonly validationAttempts: number;
  readonly nextValidationAt: number | null;
  readonly lastError: string | null;
  /** Pull subscriptions: the queue position acknowledged so far. */
  readonly acknowledgedDeliveryId: number;
  readonly lastReadAt: number | null;
  /** Pull subscriptions: moves on when the subscription goes inactive, voiding older checkpoints. */
  readonly checkpointEpoch: number;
  /** Push subscriptions: the endpoint's health (the circuit breaker, docs/isolation.md). */
  readonly health: EndpointHealth;
  /** When the current health began; null for healthy since creation. */
  readonly healthSince: number | null;
  /** The latest failed attempt's error while failing or suspended. */
  readonly healthError: string | null;
  readonly consecutiveFailures: number;
  /** Suspended: when the next probe may go out. */
  readonly probeAt: number | null;
  /** Set while disabled; `lastError` says why. */
  readonly disabledBy: DisabledBy | null;
}

export interface NewSubscription extends SubscriptionSpec {
  readonly identity: string;
  readonly consumer: string;
  readonly createdBy: string;
  readonly secret: string;
  readonly status: SubscriptionStatus;
  /** When the validation handshake is first due; null for none (a pull subscription). */
  readonly nextValidationAt: number | null;
  /** Set for a subscription that needs no handshake (pull). */
  readonly validatedAt: number | null;
  readonly now: number;
}

/** A delivery leased for one attempt, with the event as stored. */
export interface DeliveryTask {
  readonly id: number;
  readonly subscriptionId: number;
  readonly attempts: number;
  readonly payload: string;
  /** A suspended endpoint's probe: its outcome decides whether the endpoint resumes. */
  readonly probe?: boolean;
  /** The endpoint had failed when this was leased (by any process's attempts): a success ends the run. */
  readonly endpointFailing?: boolean;
  /**
   * The subscription's secret version when this was leased; a process whose copy is older reads it again before
   * signing. Absent for a delivery claimed at publishing (see migration 015 for why that is safe).
   */
  readonly secretVersion?: number;
}

/** A validation handshake leased for one attempt. */
export interface ValidationTask {
  readonly subscriptionId: number;
  readonly endpoint: string;
  readonly secret: string;
  /** The secret a rotation replaced, signing beside `secret` until `previousSecretUntil`. */
  readonly previousSecret: string | null;
  readonly previousSecretUntil: number | null;
  readonly attempts: number;
}

/** A delivery as its subscriber sees it. */
export interface DeliveryRecord {
  readonly id: number;
  readonly eventId: string;
  /** The event's position in the log (for authorization; not shown). */
  readonly eventSeq: number;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
  /** Why the last attempt got no answer (docs/delivery.md, "Attempts"); null when it was answered. */
  readonly lastErrorKind: AttemptErrorKind | null;
  readonly nextAttemptAt: number | null;
  readonly deliveredAt: number | null;
  /** When it became a dead letter; null unless dead (or dead before this was recorded). */
  readonly deadAt: number | null;
  readonly createdAt: number;
  /** Whether it is one of an ordered key (docs/ordering.md). */
  readonly ordered: boolean | number;
  /** The replay that wrote it (docs/replay.md); null for a delivery written when its event was published. */
  readonly replayId: number | null;
}
