import { randomUUID } from 'node:crypto';
import type { HealthChange, HealthThresholds } from '../domain/endpoint-health.js';
import type { Authorizer } from '../domain/policy.js';
import type { DeliveryTask } from '../store/records.js';
import type { DeliveryClaim, Store } from '../store/store.js';
import { type DeliveryBudgets, defaultBudgets } from '../domain/delivery-budgets.js';
import { BudgetLedger, inTurnByConsumer } from './budget-ledger.js';
import { offerClaim } from './claim-offer.js';
import { type DeliveryMetrics, DeliveryAttempts } from './delivery-attempts.js';
import { EndpointBreaker } from './endpoint-breaker.js';
import { Handshakes } from './handshakes.js';
import { HoldingsExchange } from './holdings-exchange.js';
import type { SubscriptionRegistry } from './subscription-registry.js';
import type { WebhookSender } from './webhook-sender.js';
import type { Tracing } from '../observability/tracing/tracing.js';

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
  /** Attempts in flight at once in this process (budgets.perProcess). */
  readonly maxInFlight?: number;
  /** Attempts in flight at once to one subscription's endpoint (budgets.perSubscription). */
  readonly maxPerSubscription?: number;
  /** What each consumer, endpoint origin and the handshakes may hold (docs/isolation.md); defaults for the rest. */
  readonly budgets?: Partial<DeliveryBudgets>;
  /** The circuit breaker's thresholds. */
  readonly health?: HealthThresholds;
  /** Publishes a change of an endpoint's health into Herald's own log. */
  readonly announceHealth?: (change: HealthChange) => Promise<void>;
  /** How long an idle loop sleeps when nothing wakes it. */
  readonly idleWaitMs?: number;
  readonly clock?: () => number;
  readonly random?: () => number;
  readonly onError?: (error: unknown, context: string) => void;
  /** Who may read what; without one, scopes alone decided when the subscription was made. */
  readonly authorizer?: Authorizer;
  /** Told of each delivery's outcome once it is recorded. */
  readonly metrics?: DeliveryMetrics;
  /** A span per delivery attempt (docs/observability.md#tracing); unset, none. */
  readonly tracing?: Tracing | undefined;
}

export type { DeliveryMetrics } from './delivery-attempts.js';

/** The process's and each subscription's default slots (see DeliveryBudgets). */
export const dispatchLimits = { maxInFlight: defaultBudgets.perProcess, maxPerSubscription: defaultBudgets.perSubscription } as const;

/** Headroom on top of the attempt timeout, for recording the outcome, before another process may take over. */
const defaultLeaseMarginMs = 30_000;

/**
 * Pushes due deliveries and validation handshakes to webhooks. Each round leases work from the store (so
 * processes sharing a database never send the same attempt at once), launches the attempts without waiting
 * for them, and records each outcome when it arrives. What one party may hold is bounded by its budget
 * (DeliveryBudgets): a subscription, a consumer or an endpoint origin at its budget is left out of the next
 * lease, so a slow or hanging endpoint holds back only its owner's share; handshakes have slots of their own.
 * The circuit breaker (EndpointBreaker) suspends an endpoint that keeps failing and probes it until it answers.
 */
export class Dispatcher {
  private readonly owner: string;
  private readonly budgets: DeliveryBudgets;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly inFlight = new Set<Promise<void>>();
  /** Slots claims hold for deliveries of publishes not yet handed off (see offerClaim). */
  private heldForClaims = 0;
  /** Leased ahead, waiting for a slot (see leaseAndLaunch), taken in turn by consumer. */
  private ready: { task: DeliveryTask; leaseUntil: number }[] = [];
  /** Attempts in flight and deliveries held (leased ahead or in flight) per subscription, consumer and origin. */
  private readonly ledger: BudgetLedger;
  private readonly breaker: EndpointBreaker;
  private running = false;
  /** Where processes share the budgets (PostgreSQL): what the others hold. */
  private readonly exchange: HoldingsExchange | undefined;
  /** Attempts ended since the last lease statement, and whether new work came since (see leaseAndLaunch). */
  private endedSinceLease = 0;
  private newWork = true;
  /** Set by `stop`: nothing more is launched, not even what was leased ahead (it is given back). */
  private stopping = false;
  private looping: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  /** Set by `wake` while a round is under way, so the loop runs again instead of sleeping through it. */
  private woken = false;
  /**
   * The last round may have left due work behind (its lease was cut short by capacity or budgets), so a
   * finished attempt wakes the loop. Otherwise finished attempts do not: new work is announced, and retries
   * come due on the idle timer.
   */
  private backlog = false;
  private readonly attempts: DeliveryAttempts;
  private stopWatching: (() => void) | undefined;
  private readonly handshakes: Handshakes;

  constructor(private readonly options: DispatcherOptions) {
    this.owner = options.owner ?? randomUUID();
    this.budgets = {
      ...defaultBudgets,
      ...options.budgets,
      ...(options.maxInFlight === undefined ? {} : { perProcess: options.maxInFlight }),
      ...(options.maxPerSubscription === undefined ? {} : { perSubscription: options.maxPerSubscription }),
    };
    this.clock = options.clock ?? Date.now;
    this.random = options.random ?? Math.random;
    this.handshakes = new Handshakes({
      ...options,
      clock: this.clock,
      random: this.random,
      slots: this.budgets.handshakes,
      perConsumer: this.budgets.handshakesPerConsumer,
    });
    const registry = options.registry;
    this.ledger = new BudgetLedger(this.budgets, {
      consumerOf: (id) => registry.get(id)?.consumer,
      originOf: (id) => registry.originOf(id),
      pushSubscriptionsOf: (consumer) => registry.pushSubscriptionsOf(consumer),
      pushSubscriptionsAt: (origin) => registry.pushSubscriptionsAt(origin),
    });
    const holdings = options.store.holdings;
    this.exchange =
      holdings &&
      new HoldingsExchange(
        holdings,
        this.ledger,
        this.owner,
        () => {
          const now = this.clock();
          return { now, until: this.leaseUntil(now) };
        },
        (error) => options.onError?.(error, 'sharing delivery holdings'),
      );
    this.breaker = new EndpointBreaker({
      store: options.store,
      registry,
      thresholds: options.health,
      clock: this.clock,
      announce: options.announceHealth,
      changed: (type) => options.metrics?.healthChanged?.(type),
      onError: options.onError,
    });
    this.attempts = new DeliveryAttempts({ ...options, owner: this.owner, clock: this.clock, random: this.random, breaker: this.breaker });
  }

  /** One round, for tests and tools: lease what is due, attempt it all, and wait for every outcome. */
  async runOnce(): Promise<number> {
    const launched = await this.leaseAndLaunch();
    await Promise.all(launched);
    await this.attempts.settled();
    await this.breaker.settled();
    return launched.length;
  }

  /** Runs rounds until `stop`, waking when the store announces due deliveries or subscription changes. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.exchange?.start();
    this.stopWatching = this.options.store.watch((topic) => {
      // A commit alone is no work for the dispatcher: the deliveries it made are announced as such.
      if (topic === 'events') return;
      if (topic === 'subscriptions') this.handshakes.subscriptionsChanged();
      this.newWork = true;
      this.wake();
    });
    this.looping = this.loop();
  }

  /** Stops leasing and waits for the attempts in flight to be recorded. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping = true;
    this.stopWatching?.();
    this.wake();
    await this.looping;
    // Leased ahead but not started: given back, so another process can take them at once.
    const unsent = this.ready.splice(0).map(({ task }) => {
      this.ledger.free(task.subscriptionId);
      return task.id;
    });
    await this.options.store.deliveries
      .release(unsent, this.owner)
      .catch((error: unknown) => this.options.onError?.(error, 'releasing deliveries'));
    await Promise.all(this.inFlight);
    await this.handshakes.settled();
    await this.attempts.settled();
    await this.breaker.settled();
    // Shared until every attempt has ended, then forgotten: the others need not wait for the holdings to expire.
    await this.exchange?.stop();
    // Stopped: a tool may still drive one-off rounds (runOnce).
    this.stopping = false;
  }

  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /**
   * Offers to take new deliveries on in the publish transaction (see DeliveryClaim): as many as this process has
   * room for, within every budget. Once committed they are attempted at once, with no lease statement and no
   * payload read. Without room (or before `start`), the deliveries wait in the queue as before.
   */
  claim(): DeliveryClaim | undefined {
    if (!this.running || this.inFlight.size + this.heldForClaims >= this.budgets.perProcess) return undefined;
    return offerClaim({
      owner: this.owner,
      leaseUntil: this.leaseUntil(this.clock()),
      ledger: this.ledger,
      rounds: () => this.rounds(),
      freeSlots: () => this.budgets.perProcess - this.inFlight.size - this.heldForClaims,
      hold: (count) => {
        this.heldForClaims += count;
      },
      sendsTo: (id) => Boolean(this.options.registry.get(id)?.endpoint) && !this.breaker.suspended(id),
      launch: (task) => {
        this.ledger.hold(task.subscriptionId);
        void this.track(task.subscriptionId, () => this.attempts.attempt(task));
      },
      giveBack: (ids) => this.giveBack(ids),
    });
  }

  /** How many rounds of each budget may be held: one in flight and, while the loop runs, one leased ahead. */
  private rounds(): number {
    return this.running ? 2 : 1;
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
      const full = this.inFlight.size >= this.budgets.perProcess;
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
      // Slept the whole while: retries may have come due.
      const timer = setTimeout(() => {
        this.newWork = true;
        done();
      }, ms);
      this.wakeUp = done;
    });
  }

  private async leaseAndLaunch(): Promise<Promise<void>[]> {
    const fromBuffer = this.launchReady();
    const now = this.clock();
    const leaseUntil = this.leaseUntil(now);
    const { store } = this.options;
    // Handshakes have slots of their own: a consumer's hanging endpoints cannot delay another's validation.
    const launchedHandshakes = await this.handshakes.launchDue(now, leaseUntil, this.running);
    // While the loop runs, a second round of deliveries is leased ahead and waits here: a slot that frees
    // starts the next one at once instead of waiting for a lease statement (a database round trip and commit).
    const rounds = this.rounds();
    const free = rounds * this.budgets.perProcess - this.inFlight.size - this.ready.length - this.heldForClaims;
    // Under load, lease in batches: waiting for a quarter of the slots to free up costs a few milliseconds and
    // saves a lease statement per finished attempt. Slots a budget holds back count as busy: while what waits
    // here still feeds the free slots, a lease waits until a quarter of the slots' worth of attempts has ended.
    const batch = this.budgets.perProcess / 4;
    const underLoad = this.inFlight.size > 0;
    // New work (announced, or come due while the loop slept) is leased at once: it may be another consumer's,
    // whose deliveries must not wait for this consumer's attempts to end.
    const waitForBatch = this.ready.length > 0 && this.endedSinceLease < batch && !this.newWork;
    if (free <= 0 || (underLoad && (free < batch || waitForBatch))) {
      this.backlog = true;
      return [...fromBuffer, ...launchedHandshakes];
    }
    this.endedSinceLease = 0;
    this.newWork = false;
    const probes = await this.breaker.leaseProbes(this.owner, now, leaseUntil, this.running);
    await this.exchange?.beforeLease();
    const room = this.ledger.leaseRoom(rounds);
    const leased = await store.deliveries.leaseDue(this.owner, now, leaseUntil, free, room);
    // A lease cut short by budgets, or one that left parties out, may have left work behind.
    this.backlog = leased.length > 0 || room.excluded.length > 0;
    const { take, giveBack } = this.ledger.admit([...probes, ...leased], rounds);
    // Claims handed off while the lease statements ran took slots too: what would hold more than one round
    // ahead goes back.
    const slots = rounds * this.budgets.perProcess - this.inFlight.size - this.ready.length - this.heldForClaims;
    giveBack.push(...take.splice(Math.max(0, slots)));
    await store.deliveries.release(
      giveBack.map((d) => d.id),
      this.owner,
    );
    // Read again before signing: subscriptions not known here yet, and those whose secret was rotated since this
    // process read them (another process's rotation may not have been heard of yet).
    const outdated = take.filter((d) => !this.options.registry.knows(d.subscriptionId, d.secretVersion)).map((d) => d.subscriptionId);
    if (outdated.length > 0) await this.options.registry.refresh([...new Set(outdated)]);
    for (const task of take) {
      this.ledger.hold(task.subscriptionId);
      this.ready.push({ task, leaseUntil });
    }
    this.ready = inTurnByConsumer(this.ready, (entry) => this.options.registry.get(entry.task.subscriptionId)?.consumer ?? '');
    return [...fromBuffer, ...launchedHandshakes, ...this.launchReady()];
  }

  /**
   * Starts leased deliveries while there are free slots, each subscription within its slots. One whose lease no
   * longer leaves time for a whole attempt is not sent: its lease lapses, and the attempt goes to whoever
   * leases it next (never two attempts of one delivery at once). One whose endpoint was suspended meanwhile
   * goes back to wait.
   */
  private launchReady(): Promise<void>[] {
    const launched: Promise<void>[] = [];
    // An attempt that finishes while stopping must not start what waits: stop gives that back instead.
    if (this.stopping) return launched;
    const suspended: number[] = [];
    const now = this.clock();
    for (let i = 0; i < this.ready.length && this.inFlight.size < this.budgets.perProcess; ) {
      const { task, leaseUntil } = this.ready[i] as { task: DeliveryTask; leaseUntil: number };
      if (leaseUntil - now < this.options.timeoutMs || (!task.probe && this.breaker.suspended(task.subscriptionId))) {
        this.ready.splice(i, 1);
        this.ledger.free(task.subscriptionId);
        if (leaseUntil - now >= this.options.timeoutMs) suspended.push(task.id);
        continue;
      }
      if (!this.ledger.slotFor(task.subscriptionId)) {
        i++;
        continue;
      }
      this.ready.splice(i, 1);
      launched.push(this.track(task.subscriptionId, () => this.attempts.attempt(task)));
    }
    if (suspended.length > 0) this.giveBack(suspended);
    return launched;
  }

  private track(subscriptionId: number, attempt: () => Promise<void>): Promise<void> {
    this.ledger.started(subscriptionId);
    const running = attempt()
      .catch((error: unknown) => this.options.onError?.(error, `subscription ${subscriptionId}`))
      .finally(() => {
        this.ledger.ended(subscriptionId);
        this.ledger.free(subscriptionId);
        this.endedSinceLease++;
        this.inFlight.delete(running);
        if (this.ready.length > 0) this.launchReady();
        if (this.backlog) this.wake();
      });
    this.inFlight.add(running);
    return running;
  }

}
