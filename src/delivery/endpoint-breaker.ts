import type { AttemptResponse } from '../domain/delivery-attempt.js';
import {
  type HealthChange,
  type HealthThresholds,
  defaultHealthThresholds,
  nextHealth,
  nextProbeInterval,
} from '../domain/endpoint-health.js';
import type { DeliveryTask } from '../store/records.js';
import type { Store } from '../store/store.js';
import type { SubscriptionRegistry } from './subscription-registry.js';

export interface BreakerOptions {
  readonly store: Store;
  readonly registry: SubscriptionRegistry;
  readonly thresholds?: HealthThresholds | undefined;
  readonly clock: () => number;
  /** Publishes a change of an endpoint's health into Herald's own log. */
  readonly announce?: ((change: HealthChange) => Promise<void>) | undefined;
  /** Told of each suspension and resumption this process makes, for metrics. */
  readonly changed?: ((type: HealthChange['type']) => void) | undefined;
  readonly onError?: ((error: unknown, context: string) => void) | undefined;
}

interface Verdict {
  readonly subscriptionId: number;
  readonly succeeded: boolean;
  readonly error: string;
  readonly probe: boolean;
}

/** How often a busy dispatcher looks for suspended endpoints whose probe is due. */
const probeCheckIntervalMs = 1_000;

/** Probes taken in one look at most. */
const maxProbesPerLook = 16;

/**
 * The circuit breaker in front of every push endpoint (docs/isolation.md). It hears each attempt's outcome,
 * counts failures in a row in the database (so every process's attempts add up), suspends an endpoint at the
 * threshold, takes the probes of suspended endpoints when they are due, and resumes an endpoint on its first 2xx.
 * Verdicts are written together, like outcomes: one statement for all that arrived meanwhile.
 */
export class EndpointBreaker {
  readonly thresholds: HealthThresholds;
  private queued: Verdict[] = [];
  private flushing: Promise<void> | undefined;
  /** Endpoints this process has seen fail since it last recorded a success for them. */
  private readonly unclean = new Set<number>();
  /** Endpoints this process suspended, until the registry hears of it. */
  private readonly suspendedHere = new Set<number>();
  private probesCheckedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: BreakerOptions) {
    this.thresholds = options.thresholds ?? defaultHealthThresholds;
  }

  /** Whether deliveries to this subscription wait (its endpoint is suspended); its probe still goes. */
  suspended(subscriptionId: number): boolean {
    return this.suspendedHere.has(subscriptionId) || this.options.registry.get(subscriptionId)?.health === 'suspended';
  }

  /** Hears an attempt's outcome. A 410 Gone is not the endpoint's failure: it disables the subscription instead. */
  observe(task: DeliveryTask, response: AttemptResponse): void {
    const succeeded = response.kind === 'answered' && response.statusCode >= 200 && response.statusCode < 300;
    if (response.kind === 'answered' && response.statusCode === 410) return;
    const error = response.kind === 'failed' ? response.error : `The endpoint answered ${response.statusCode}.`;
    if (task.endpointFailing) this.unclean.add(task.subscriptionId);
    this.queued.push({ subscriptionId: task.subscriptionId, succeeded, error, probe: task.probe === true });
    this.flushing ??= new Promise<void>((done) => setImmediate(() => void this.flush().finally(done)));
  }

  /** Resolves once every verdict heard so far is recorded. */
  async settled(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /**
   * The probes that are due: for each suspended endpoint whose probe is due, its oldest due delivery, leased to
   * `owner`; the probe itself is taken so no other process probes the endpoint meanwhile. A busy loop looks at
   * most once a second; a one-off round (`throttled` false) always looks.
   */
  async leaseProbes(owner: string, now: number, until: number, throttled: boolean): Promise<DeliveryTask[]> {
    const at = performance.now();
    if (throttled && at - this.probesCheckedAt < probeCheckIntervalMs) return [];
    this.probesCheckedAt = at;
    const due = await this.options.store.health.leaseProbes(now, until, maxProbesPerLook);
    const probes = await Promise.all(due.map((id) => this.options.store.deliveries.leaseProbe(id, owner, now, until)));
    return probes.filter((probe) => probe !== undefined);
  }

  private async flush(): Promise<void> {
    while (this.queued.length > 0) {
      const batch = this.queued;
      this.queued = [];
      try {
        await this.record(batch);
      } catch (error) {
        // A verdict not recorded only delays a suspension or a resumption: the next outcome counts again.
        this.options.onError?.(error, 'recording endpoint health');
      }
    }
    this.flushing = undefined;
  }

  private async record(batch: readonly Verdict[]): Promise<void> {
    const now = this.options.clock();
    // Per endpoint, what counts is the last success and the failures after it.
    const bySubscription = new Map<number, { succeeded: boolean; failures: Verdict[] }>();
    for (const verdict of batch) {
      const entry = bySubscription.get(verdict.subscriptionId);
      if (verdict.succeeded) bySubscription.set(verdict.subscriptionId, { succeeded: true, failures: [] });
      else if (entry) entry.failures.push(verdict);
      else bySubscription.set(verdict.subscriptionId, { succeeded: false, failures: [verdict] });
    }
    const recovered = [...bySubscription].filter(([id, entry]) => entry.succeeded && this.mayBeUnclean(id)).map(([id]) => id);
    const resumed = await this.options.store.health.recordSuccesses(recovered, now);
    // This process sends to a resumed endpoint from its next round; others hear the announcement.
    if (resumed.length > 0) await this.options.registry.refresh(resumed.map((r) => r.subscriptionId));
    for (const { subscriptionId, suspendedSince } of resumed) {
      this.suspendedHere.delete(subscriptionId);
      await this.announce('herald.subscription.resumed', subscriptionId, suspendedSince, {});
    }
    for (const id of recovered) this.unclean.delete(id);

    const failed = [...bySubscription].filter(([, entry]) => entry.failures.length > 0);
    const counts = await this.options.store.health.recordFailures(
      failed.map(([subscriptionId, entry]) => ({
        subscriptionId,
        failures: entry.failures.length,
        error: (entry.failures.at(-1) as Verdict).error,
      })),
      now,
    );
    for (const count of counts) {
      this.unclean.add(count.subscriptionId);
      const entry = bySubscription.get(count.subscriptionId);
      const error = entry?.failures.at(-1)?.error ?? null;
      if (count.health === 'suspended') {
        if (entry?.failures.some((f) => f.probe)) {
          await this.options.store.health.probeFailed(count.subscriptionId, now, this.thresholds.maxProbeIntervalMs);
        }
        continue;
      }
      const transition = nextHealth(count.health, 'failed', count.consecutiveFailures, this.thresholds);
      if (transition.to !== 'suspended') continue;
      const interval = nextProbeInterval(null, this.thresholds);
      if (await this.options.store.health.suspend(count.subscriptionId, now, interval)) {
        this.suspendedHere.add(count.subscriptionId);
        await this.announce('herald.subscription.suspended', count.subscriptionId, now, {
          error,
          failures: count.consecutiveFailures,
          nextProbeAt: now + interval,
        });
      }
    }
  }

  /**
   * Whether recording a success could change anything: the registry or this process saw the endpoint fail. A
   * healthy endpoint's successes cost no statement.
   */
  private mayBeUnclean(subscriptionId: number): boolean {
    const known = this.options.registry.get(subscriptionId);
    return (
      this.unclean.has(subscriptionId) ||
      this.suspendedHere.has(subscriptionId) ||
      (known !== undefined && (known.health !== 'healthy' || known.consecutiveFailures > 0))
    );
  }

  private async announce(
    type: HealthChange['type'],
    subscriptionId: number,
    at: number,
    details: Pick<HealthChange, 'error' | 'failures' | 'nextProbeAt'>,
  ): Promise<void> {
    this.options.changed?.(type);
    const subscription = this.options.registry.get(subscriptionId);
    if (!this.options.announce || !subscription?.endpoint) return;
    await this.options
      .announce({ type, subscriptionId, consumer: subscription.consumer, at, ...details })
      .catch((error: unknown) => this.options.onError?.(error, `announcing the health of subscription ${subscriptionId}`));
  }
}
