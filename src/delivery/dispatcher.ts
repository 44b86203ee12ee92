import { randomUUID } from 'node:crypto';
import { type AttemptOutcome, type AttemptResponse, decideAttempt } from '../domain/delivery-attempt.js';
import type { Authorizer } from '../domain/policy.js';
import type { DeliveryTask } from '../store/records.js';
import type { DeliveryClaim, Store } from '../store/store.js';
import { Handshakes } from './handshakes.js';
import { OutcomeRecorder } from './outcome-recorder.js';
import { signedPost } from './signed-post.js';
import type { SubscriptionRegistry } from './subscription-registry.js';
import type { WebhookSender } from './webhook-sender.js';

export interface DispatcherOptions {
  readonly store: Store;
  readonly registry: SubscriptionRegistry;
  readonly sender: WebhookSender;
  /** Delays between attempts (the retry ladder). */
  readonly schedule: readonly number[];
  /** An attempt's time limit; leases outlast it. */
  readonly timeoutMs: number;
  /** Herald's public base URL, for the validation event's `source`. */
  readonly baseUrl: string;
  /** Headroom on top of the attempt timeout before another process may take a lease over (default 30 s). */
  readonly leaseMarginMs?: number;
  /** Names this process on its leases. */
  readonly owner?: string;
  /** Attempts in flight at once in this process. */
  readonly maxInFlight?: number;
  /** Attempts in flight at once to one subscription's endpoint. */
  readonly maxPerSubscription?: number;
  /** How long an idle loop sleeps when nothing wakes it. */
  readonly idleWaitMs?: number;
  readonly clock?: () => number;
  readonly random?: () => number;
  readonly onError?: (error: unknown, context: string) => void;
  /** Who may read what; without one, scopes alone decided when the subscription was made. */
  readonly authorizer?: Authorizer;
  /** Told of each delivery's outcome once it is recorded. */
  readonly metrics?: DeliveryMetrics;
}

/** Observes deliveries for metrics; `response` is absent when nothing was sent. */
export interface DeliveryMetrics {
  attempted(deliveryId: number, outcome: AttemptOutcome, response?: AttemptResponse): void;
}

/**
 * Defaults for how many attempts run at once: enough that one busy endpoint can take a steady thousand events
 * a second, few enough that a hanging one holds a small share of the process's attempts.
 */
export const dispatchLimits = { maxInFlight: 128, maxPerSubscription: 32 } as const;

/** Headroom on top of the attempt timeout, for recording the outcome, before another process may take over. */
const defaultLeaseMarginMs = 30_000;

/**
 * Pushes due deliveries and validation handshakes to webhooks. Each round leases work from the store (so
 * processes sharing a database never send the same attempt at once), launches the attempts without waiting
 * for them, and records each outcome when it arrives. A subscription whose endpoint has its fill of attempts
 * in flight is left out of the next lease, so one slow endpoint cannot hold back the others.
 */
export class Dispatcher {
  private readonly owner: string;
  private readonly maxInFlight: number;
  private readonly maxPerSubscription: number;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly inFlight = new Set<Promise<void>>();
  /** Leased ahead, waiting for a slot (see leaseAndLaunch). */
  private readonly ready: { task: DeliveryTask; leaseUntil: number }[] = [];
  /** Outcomes of finished attempts still being written. */
  private readonly recording = new Set<Promise<void>>();
  private readonly perSubscription = new Map<number, number>();
  private running = false;
  private looping: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  /** Set by `wake` while a round is under way, so the loop runs again instead of sleeping through it. */
  private woken = false;
  /**
   * The last round may have left due work behind (its lease was cut short by capacity), so a finished attempt
   * wakes the loop. Otherwise finished attempts do not: new work is announced, and retries come due on the
   * idle timer.
   */
  private backlog = false;
  private readonly outcomes: OutcomeRecorder;
  private stopWatching: (() => void) | undefined;
  private readonly handshakes: Handshakes;

  constructor(private readonly options: DispatcherOptions) {
    this.owner = options.owner ?? randomUUID();
    this.maxInFlight = options.maxInFlight ?? dispatchLimits.maxInFlight;
    this.maxPerSubscription = options.maxPerSubscription ?? dispatchLimits.maxPerSubscription;
    this.clock = options.clock ?? Date.now;
    this.outcomes = new OutcomeRecorder(options.store, this.owner, this.clock);
    this.random = options.random ?? Math.random;
    this.handshakes = new Handshakes({ ...options, clock: this.clock, random: this.random });
  }

  /** One round, for tests and tools: lease what is due, attempt it all, and wait for every outcome. */
  async runOnce(): Promise<number> {
    const launched = await this.leaseAndLaunch();
    await Promise.all(launched);
    await Promise.all(this.recording);
    return launched.length;
  }

  /** Runs rounds until `stop`, waking when the store announces due deliveries or subscription changes. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopWatching = this.options.store.watch((topic) => {
      if (topic === 'subscriptions') this.handshakes.subscriptionsChanged();
      this.wake();
    });
    this.looping = this.loop();
  }

  /** Stops leasing and waits for the attempts in flight to be recorded. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopWatching?.();
    this.wake();
    await this.looping;
    // Leased ahead but not started: given back, so another process can take them at once.
    const unsent = this.ready.splice(0).map(({ task }) => task.id);
    await this.options.store.deliveries
      .release(unsent, this.owner)
      .catch((error: unknown) => this.options.onError?.(error, 'releasing deliveries'));
    await Promise.all(this.inFlight);
    await Promise.all(this.recording);
  }

  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /**
   * Offers to take new deliveries on in the publish transaction (see DeliveryClaim): as many as this process has
   * room for, within each subscription's cap. Once committed they are attempted at once, with no lease statement
   * and no payload read. Without room (or before `start`), the deliveries wait in the queue as before.
   */
  claim(): DeliveryClaim | undefined {
    let room = this.maxInFlight - this.inFlight.size;
    if (!this.running || room <= 0) return undefined;
    const planned = new Map<number, number>();
    return {
      owner: this.owner,
      leaseUntil: this.leaseUntil(this.clock()),
      wants: (subscriptionId) => {
        if (room <= 0 || !this.options.registry.get(subscriptionId)?.endpoint) return false;
        const count = planned.get(subscriptionId) ?? this.perSubscription.get(subscriptionId) ?? 0;
        if (count >= this.maxPerSubscription) return false;
        planned.set(subscriptionId, count + 1);
        room--;
        return true;
      },
      handOff: (tasks) => {
        // Other attempts may have started since the offer: what no longer fits (this process's slots, each
        // subscription's cap) goes back to the queue.
        const { launch, giveBack } = this.withinSubscriptionCaps(tasks, this.maxPerSubscription);
        giveBack.push(...launch.splice(Math.max(0, this.maxInFlight - this.inFlight.size)));
        for (const task of launch) void this.track(task.subscriptionId, () => this.deliver(task));
        if (giveBack.length > 0) this.giveBack(giveBack.map((task) => task.id));
      },
    };
  }

  private leaseUntil(now: number): number {
    return now + this.options.timeoutMs + (this.options.leaseMarginMs ?? defaultLeaseMarginMs);
  }

  private giveBack(ids: number[]): void {
    this.options.store.deliveries.release(ids, this.owner).then(
      () => this.wake(),
      (error: unknown) => this.options.onError?.(error, 'releasing deliveries'),
    );
  }

  private async loop(): Promise<void> {
    while (this.running) {
      this.woken = false;
      let launched = 0;
      try {
        launched = (await this.leaseAndLaunch()).length;
      } catch (error) {
        this.options.onError?.(error, 'leasing deliveries');
      }
      const full = this.inFlight.size >= this.maxInFlight;
      if (this.running && (launched === 0 || full) && !this.woken) await this.sleep(this.options.idleWaitMs ?? 1_000);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  private async leaseAndLaunch(): Promise<Promise<void>[]> {
    const fromBuffer = this.launchReady();
    // While the loop runs, a second round of deliveries is leased ahead and waits here: a slot that frees
    // starts the next one at once instead of waiting for a lease statement (a database round trip and commit).
    const rounds = this.running ? 2 : 1;
    const free = rounds * this.maxInFlight - this.inFlight.size - this.ready.length;
    // Under load, lease in batches: waiting for a quarter of the slots to free up costs a few milliseconds and
    // saves a lease statement per finished attempt.
    if (free <= 0 || (this.inFlight.size > 0 && free < this.maxInFlight / 4)) {
      this.backlog = true;
      return fromBuffer;
    }
    const now = this.clock();
    const leaseUntil = this.leaseUntil(now);
    const { store } = this.options;
    const slots = Math.max(0, this.maxInFlight - this.inFlight.size);
    const validations = await this.handshakes.leaseDue(now, leaseUntil, slots, this.running);
    const cap = rounds * this.maxPerSubscription;
    const held = this.heldPerSubscription();
    const busy = [...held].filter(([, n]) => n >= cap).map(([id]) => id);
    const wanted = free - validations.length;
    const leased = await store.deliveries.leaseDue(this.owner, now, leaseUntil, wanted, busy);
    // A full lease may have left more behind; busy subscriptions were left out and wait for their attempts.
    this.backlog = leased.length >= wanted || busy.length > 0;
    const { launch, giveBack } = this.withinSubscriptionCaps(leased, cap, this.heldPerSubscription());
    // Claims handed off while the lease statements ran took slots too: what would hold more than one round
    // ahead goes back.
    const room = rounds * this.maxInFlight - this.inFlight.size - this.ready.length - validations.length;
    giveBack.push(...launch.splice(Math.max(0, room)));
    await store.deliveries.release(
      giveBack.map((d) => d.id),
      this.owner,
    );
    if (launch.some((d) => !this.options.registry.get(d.subscriptionId))) await this.options.registry.reload();
    for (const task of launch) this.ready.push({ task, leaseUntil });
    return [
      ...fromBuffer,
      ...validations.map((task) => this.track(task.subscriptionId, () => this.handshakes.perform(task))),
      ...this.launchReady(),
    ];
  }

  /**
   * Starts leased deliveries while there are free slots, each subscription within its cap. One whose lease no
   * longer leaves time for a whole attempt is not sent: its lease lapses, and the attempt goes to whoever
   * leases it next (never two attempts of one delivery at once).
   */
  private launchReady(): Promise<void>[] {
    const launched: Promise<void>[] = [];
    const now = this.clock();
    for (let i = 0; i < this.ready.length && this.inFlight.size < this.maxInFlight; ) {
      const { task, leaseUntil } = this.ready[i] as { task: DeliveryTask; leaseUntil: number };
      if (leaseUntil - now < this.options.timeoutMs) {
        this.ready.splice(i, 1);
        continue;
      }
      if ((this.perSubscription.get(task.subscriptionId) ?? 0) >= this.maxPerSubscription) {
        i++;
        continue;
      }
      this.ready.splice(i, 1);
      launched.push(this.track(task.subscriptionId, () => this.deliver(task)));
    }
    return launched;
  }

  /** Deliveries each subscription has in flight or waiting here. */
  private heldPerSubscription(): Map<number, number> {
    const held = new Map(this.perSubscription);
    for (const { task } of this.ready) held.set(task.subscriptionId, (held.get(task.subscriptionId) ?? 0) + 1);
    return held;
  }

  /**
   * Splits a lease into what each subscription's remaining capacity allows and what goes back. Busy
   * subscriptions are left out of the next lease, so what goes back cannot crowd out other subscriptions.
   */
  private withinSubscriptionCaps(leased: readonly DeliveryTask[], cap: number, held: Map<number, number> = this.perSubscription) {
    const launch: DeliveryTask[] = [];
    const giveBack: DeliveryTask[] = [];
    const planned = new Map<number, number>();
    for (const task of leased) {
      const count = planned.get(task.subscriptionId) ?? held.get(task.subscriptionId) ?? 0;
      if (count >= cap) giveBack.push(task);
      else {
        launch.push(task);
        planned.set(task.subscriptionId, count + 1);
      }
    }
    return { launch, giveBack };
  }

  private track(subscriptionId: number, attempt: () => Promise<void>): Promise<void> {
    this.perSubscription.set(subscriptionId, (this.perSubscription.get(subscriptionId) ?? 0) + 1);
    const running = attempt()
      .catch((error: unknown) => this.options.onError?.(error, `subscription ${subscriptionId}`))
      .finally(() => {
        const left = (this.perSubscription.get(subscriptionId) ?? 1) - 1;
        if (left > 0) this.perSubscription.set(subscriptionId, left);
        else this.perSubscription.delete(subscriptionId);
        this.inFlight.delete(running);
        if (this.ready.length > 0) this.launchReady();
        if (this.backlog) this.wake();
      });
    this.inFlight.add(running);
    return running;
  }

  private async deliver(task: DeliveryTask): Promise<void> {
    const subscription = this.options.registry.get(task.subscriptionId);
    // Deleted meanwhile (its deliveries went with it), or not yet known here: the lease lapses harmlessly.
    if (!subscription?.endpoint) return;
    const refusal = this.refusal(subscription.consumer, task.payload);
    if (refusal) {
      // Not sent, and not silently dropped: dead with the reason, redrivable once the grant is back.
      const dead = { kind: 'dead', statusCode: null, error: refusal } as const;
      await this.outcomes.record(task.id, dead);
      this.options.metrics?.attempted(task.id, dead);
      return;
    }
    const response = await signedPost(this.options.sender, subscription.endpoint, subscription.secret, `msg_${task.id}`, task.payload);
    const decision = decideAttempt(response, task.attempts + 1, this.options.schedule, this.clock(), this.random());
    // The attempt's slot frees as soon as the endpoint has answered; the outcome is recorded with the others
    // that finish meanwhile (the lease keeps the delivery from everyone else until then). Waiting for the
    // commit here would hold each slot for a database round trip as well as the request.
    this.recordInBackground(async () => {
      await this.outcomes.record(task.id, decision.outcome);
      this.options.metrics?.attempted(task.id, decision.outcome, response);
      if (decision.disableSubscription) {
        await this.options.store.subscriptions.setStatus(subscription.id, 'disabled', 'The endpoint answered 410 Gone.');
      }
    }, subscription.id);
  }

  private recordInBackground(record: () => Promise<void>, subscriptionId: number): void {
    const recording = record()
      .catch((error: unknown) => this.options.onError?.(error, `subscription ${subscriptionId}`))
      .finally(() => this.recording.delete(recording));
    this.recording.add(recording);
  }

  /** Why the consumer may not read this event now (a revoked grant), or undefined when it may. */
  private refusal(consumer: string, payload: string): string | undefined {
    const authorizer = this.options.authorizer;
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
}
