import { randomUUID } from 'node:crypto';
import { decideAttempt } from '../domain/delivery-attempt.js';
import { secretsInUse } from '../domain/secret-rotation.js';
import type { ValidationTask } from '../store/records.js';
import type { Store } from '../store/store.js';
import { signedPost } from './signed-post.js';
import type { SubscriptionRegistry } from './subscription-registry.js';
import type { WebhookSender } from './webhook-sender.js';

export interface HandshakeOptions {
  readonly store: Store;
  readonly registry: SubscriptionRegistry;
  readonly sender: WebhookSender;
  /** Delays between attempts (the retry ladder). */
  readonly schedule: readonly number[];
  /** Herald's public base URL, for the validation event's `source`. */
  readonly baseUrl: string;
  readonly clock: () => number;
  readonly random: () => number;
  /** Handshakes this process runs at once, beside the delivery slots. */
  readonly slots: number;
  /** Handshakes one consumer may have in flight at once, across processes. */
  readonly perConsumer: number;
  readonly onError?: ((error: unknown, context: string) => void) | undefined;
}

/** Handshakes leased in one round at most. */
const maxPerRound = 16;

/**
 * How often a busy loop looks for due handshakes when no subscription has changed. Under load a round runs
 * dozens of times a second, and the look is a statement each time; a change to any subscription (a new one, a
 * re-validation asked for) is looked for at once.
 */
const checkIntervalMs = 250;

/**
 * The validation handshakes the dispatcher runs beside deliveries: which are due (leased, so one process
 * sends each), and sending one, with its outcome recorded on the subscription.
 */
export class Handshakes {
  /** When due handshakes were last looked for (monotonic ms), and whether subscriptions changed since. */
  private checkedAt = Number.NEGATIVE_INFINITY;
  private changed = true;
  /** Handshakes in flight: slots of their own, so a consumer's hanging endpoints delay no one's deliveries. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: HandshakeOptions) {}

  /** Leases the due handshakes its free slots allow and starts them; resolves with the attempts started. */
  async launchDue(now: number, leaseUntil: number, throttled: boolean): Promise<Promise<void>[]> {
    const due = await this.leaseDue(now, leaseUntil, this.options.slots - this.inFlight.size, throttled);
    return due.map((task) => {
      const running = this.perform(task)
        .catch((error: unknown) => this.options.onError?.(error, `subscription ${task.subscriptionId}`))
        .finally(() => this.inFlight.delete(running));
      this.inFlight.add(running);
      return running;
    });
  }

  /** Resolves when the handshakes in flight have ended. */
  async settled(): Promise<void> {
    await Promise.all(this.inFlight);
  }

  /** A subscription changed somewhere: the next round looks for due handshakes whatever the interval. */
  subscriptionsChanged(): void {
    this.changed = true;
  }

  /**
   * Leases due handshakes for at most `slots` free slots. A busy loop (`throttled`) looks at most every
   * 250 ms unless a subscription changed; a one-off round always looks.
   */
  private async leaseDue(now: number, leaseUntil: number, slots: number, throttled: boolean): Promise<ValidationTask[]> {
    const limit = Math.min(slots, maxPerRound);
    if (limit <= 0) return [];
    const at = performance.now();
    if (throttled && !this.changed && at - this.checkedAt < checkIntervalMs) return [];
    this.changed = false;
    this.checkedAt = at;
    const due = await this.options.store.subscriptions.leaseDueValidations(now, leaseUntil, limit, this.options.perConsumer);
    // A full lease may have left more due: look again next round.
    if (due.length >= limit) this.changed = true;
    return due;
  }

  /** The handshake: Altinn's validation event, signed like any delivery; a 2xx activates the subscription. */
  private async perform(task: ValidationTask): Promise<void> {
    const eventId = randomUUID();
    const event = JSON.stringify({
      specversion: '1.0',
      id: eventId,
      type: 'platform.events.validatesubscription',
      source: `${this.options.baseUrl}/events/api/v1/subscriptions/${task.subscriptionId}`,
    });
    // Every handshake is a message of its own: a receiver that deduplicates on webhook-id must see each.
    const messageId = `msg_validation_${eventId}`;
    // Signed like a delivery: during a rotation's grace period by both secrets.
    const secrets = secretsInUse(task, this.options.clock());
    const response = await signedPost(this.options.sender, task.endpoint, secrets, messageId, event);
    const now = this.options.clock();
    const { outcome, disableSubscription } = decideAttempt(response, task.attempts + 1, this.options.schedule, now, this.options.random());
    const record = () =>
      this.options.store.subscriptions.recordValidation(
        task.subscriptionId,
        outcome.kind === 'delivered'
          ? { ok: true, at: now }
          : {
              ok: false,
              error: `Validation failed: ${outcome.error}`,
              nextAttemptAt: outcome.kind === 'retry' ? outcome.nextAttemptAt : null,
              disable: disableSubscription,
            },
      );
    // This process matches events for the subscription from the moment the database calls it active; others
    // hear the announcement.
    if (outcome.kind === 'delivered') await this.options.registry.activate(task.subscriptionId, record);
    else await record();
  }
}
