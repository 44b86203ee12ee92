import { type AttemptOutcome, type AttemptResponse, decideAttempt, recordOfAttempt } from '../domain/delivery-attempt.js';
import type { HealthEventType } from '../domain/endpoint-health.js';
import type { Authorizer } from '../domain/policy.js';
import { secretsInUse } from '../domain/secret-rotation.js';
import type { DeliveryTask } from '../store/records.js';
import type { Store } from '../store/store.js';
import type { EndpointBreaker } from './endpoint-breaker.js';
import { OutcomeRecorder } from './outcome-recorder.js';
import { readRefusal } from './read-refusal.js';
import { signedPost } from './signed-post.js';
import type { SubscriptionRegistry } from './subscription-registry.js';
import type { WebhookSender } from './webhook-sender.js';
import type { Tracing } from '../observability/tracing/tracing.js';

/** Observes deliveries for metrics; `response` is absent when nothing was sent. */
export interface DeliveryMetrics {
  attempted(deliveryId: number, outcome: AttemptOutcome, response?: AttemptResponse): void;
  /** The circuit breaker suspended or resumed an endpoint. */
  healthChanged?(type: HealthEventType): void;
}

export interface AttemptOptions {
  readonly store: Store;
  readonly registry: SubscriptionRegistry;
  readonly sender: WebhookSender;
  /** Delays between attempts (the retry ladder). */
  readonly schedule: readonly number[];
  /** The lease holder: only it may record the outcome. */
  readonly owner: string;
  readonly clock: () => number;
  readonly random: () => number;
  /** Hears every endpoint's answer (see EndpointBreaker). */
  readonly breaker: EndpointBreaker;
  readonly authorizer?: Authorizer | undefined;
  readonly metrics?: DeliveryMetrics | undefined;
  readonly onError?: ((error: unknown, context: string) => void) | undefined;
  /** A span per attempt (docs/observability.md#tracing); unset, none. */
  readonly tracing?: Tracing | undefined;
}

/**
 * One attempt of a leased delivery: the event, signed, to its subscription's endpoint (unless the consumer may no
 * longer read it), and its outcome recorded. The attempt ends when the endpoint has answered; the outcome is
 * written after, with the others that finish meanwhile.
 */
export class DeliveryAttempts {
  private readonly outcomes: OutcomeRecorder;
  /** Outcomes of finished attempts still being written. */
  private readonly recording = new Set<Promise<void>>();

  constructor(private readonly options: AttemptOptions) {
    this.outcomes = new OutcomeRecorder(options.store, options.owner, options.clock);
  }

  async attempt(task: DeliveryTask): Promise<void> {
    const subscription = this.options.registry.get(task.subscriptionId);
    // Deleted meanwhile (its deliveries went with it), or not yet known here: the lease lapses harmlessly.
    if (!subscription?.endpoint) return;
    const refusal = readRefusal(this.options.authorizer, subscription.consumer, task.payload);
    if (refusal) {
      // Not sent, and not silently dropped: dead with the reason, redrivable once the grant is back.
      const dead = { kind: 'dead', statusCode: null, error: refusal } as const;
      await this.outcomes.record(task.id, dead);
      this.options.metrics?.attempted(task.id, dead);
      return;
    }
    // During a rotation's grace period the replaced secret signs too (docs/delivery.md).
    const startedAt = this.options.clock();
    const secrets = secretsInUse(subscription, startedAt);
    const span = this.options.tracing?.attemptStarted({
      deliveryId: task.id,
      subscriptionId: subscription.id,
      previousAttempts: task.attempts,
      endpoint: subscription.endpoint,
      payload: task.payload,
    });
    const response = await signedPost(this.options.sender, subscription.endpoint, secrets, `msg_${task.id}`, task.payload, span?.headers);
    const decision = decideAttempt(response, task.attempts + 1, this.options.schedule, this.options.clock(), this.options.random());
    span?.ended(response, decision.outcome);
    // The attempt's slot frees as soon as the endpoint has answered; the outcome is recorded with the others
    // that finish meanwhile (the lease keeps the delivery from everyone else until then). Waiting for the
    // commit here would hold each slot for a database round trip as well as the request.
    this.recordInBackground(async () => {
      await this.outcomes.record(task.id, decision.outcome, recordOfAttempt(response, startedAt));
      this.options.metrics?.attempted(task.id, decision.outcome, response);
      this.options.breaker.observe(task, response);
      if (decision.disableSubscription) {
        await this.options.store.subscriptions.setStatus(subscription.id, 'disabled', 'The endpoint answered 410 Gone.');
      }
    }, subscription.id);
  }

  /** Resolves once the outcomes of the attempts that ended so far are written. */
  async settled(): Promise<void> {
    await Promise.all(this.recording);
  }

  private recordInBackground(record: () => Promise<void>, subscriptionId: number): void {
    const recording = record()
      .catch((error: unknown) => this.options.onError?.(error, `subscription ${subscriptionId}`))
      .finally(() => this.recording.delete(recording));
    this.recording.add(recording);
  }
}
