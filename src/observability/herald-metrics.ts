import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { endpointHealthStates, type HealthEventType } from '../domain/endpoint-health.js';
import { inProgressReplayStatuses } from '../domain/replay.js';
import { subscriptionStatuses } from '../domain/subscription-status.js';
import type { MetricsJson } from './group-metrics.js';
import type { AttemptOutcome, AttemptResponse } from '../domain/delivery-attempt.js';
import type { Store } from '../store/store.js';
import { deliveryStatusClass } from './delivery-status-class.js';
import { storeErrorKind } from './store-error-kind.js';

/** What became of a published event. */
export type PublishOutcome = 'stored' | 'duplicate' | 'refused' | 'failed';

/** What Herald was doing when the store failed: the `operation` label of `herald_store_errors_total`. */
export type StoreOperation = 'publish' | 'request' | 'delivery' | 'maintenance' | 'scrape';

/**
 * Delivered deliveries whose latency is still to be looked up, at most this many between two scrapes; beyond
 * it the histogram samples the first ones (see `deliveryLatency`).
 */
const maxPendingLatencies = 20_000;

/** Ids looked up per statement when resolving delivery latencies. */
const latencyLookupChunk = 2_000;

/** Seconds, from a millisecond to a minute: publishing answers within the commit, usually milliseconds. */
const publishBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Seconds, from 10 ms to two days: a delivery on the default retry ladder may take 35 hours. */
const deliveryBuckets = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1_800, 3_600, 6 * 3_600, 12 * 3_600, 48 * 3_600];
/** Events per commit, up to the group-commit cap (2,000). */
const batchBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000];

/**
 * Herald's own metrics for one app, in registries of their own: tests build many apps in one process, and
 * each must count only what it did. `docs/observability.md` explains each.
 *
 * Two kinds, kept apart because `herald serve --workers` treats them differently: `counts` move where things
 * happen in this process (summed across workers), and `readings` are what the shared database says when
 * Prometheus scrapes (queue lag, subscriptions by status): the same for every worker, so the worker that
 * answers a scrape reads them once and they are never added up.
 */
export class HeraldMetrics {
  /** What this process did: counters and histograms. */
  readonly counts = new Registry();
  /** What the store says at scrape time: gauges. */
  readonly readings = new Registry();

  private readonly publishedEvents = new Counter({
    name: 'herald_published_events_total',
    help: 'Events received for publishing, by outcome: stored, duplicate (already stored), refused (4xx), failed (5xx).',
    labelNames: ['outcome'] as const,
    registers: [this.counts],
  });
  private readonly publishDuration = new Histogram({
    name: 'herald_publish_duration_seconds',
    help: 'Time from receiving a publish request to the commit of its events, for requests that were stored.',
    buckets: publishBuckets,
    registers: [this.counts],
  });
  private readonly commitBatch = new Histogram({
    name: 'herald_group_commit_events',
    help: 'Events written per group commit (one durable transaction).',
    buckets: batchBuckets,
    registers: [this.counts],
  });
  private readonly deliveries = new Counter({
    name: 'herald_deliveries_total',
    help: 'Webhook delivery attempts, by outcome (delivered, retry, dead) and the status class of the answer.',
    labelNames: ['outcome', 'status_class'] as const,
    registers: [this.counts],
  });
  private readonly deliveryLatency = new Histogram({
    name: 'herald_delivery_latency_seconds',
    help: 'Time from the commit of an event to its delivery to a webhook, retries included.',
    buckets: deliveryBuckets,
    registers: [this.counts],
  });
  private readonly queueLag = new Gauge({
    name: 'herald_delivery_queue_lag_seconds',
    help: 'How long the oldest due webhook delivery has waited past its due time (0 when none is waiting).',
    registers: [this.readings],
    // Should readings from several workers ever be aggregated, they are one database's answer: never a sum.
    aggregator: 'max',
  });
  private readonly deadLetters = new Counter({
    name: 'herald_dead_letters_total',
    help: 'Deliveries dead-lettered: out of attempts, 410 Gone, or no longer readable by the subscriber.',
    registers: [this.counts],
  });
  private readonly pulledEvents = new Counter({
    name: 'herald_pulled_events_total',
    help: 'Events returned to pull subscriptions.',
    registers: [this.counts],
  });
  // Gauges of this process, in `counts`: a `--workers` group adds them up, which is what they mean.
  private readonly openStreams = new Gauge({
    name: 'herald_open_streams',
    help: 'Event streams (GET /events/stream) open in this process.',
    registers: [this.counts],
  });
  private readonly blockedStreams = new Gauge({
    name: 'herald_blocked_streams',
    help: 'Open event streams that stopped reading the log because their client does not read what was sent.',
    registers: [this.counts],
  });
  private readonly streamedEvents = new Counter({
    name: 'herald_streamed_events_total',
    help: 'Events sent on event streams.',
    registers: [this.counts],
  });
  private readonly subscriptions = new Gauge({
    name: 'herald_subscriptions',
    help: 'Subscriptions in the store, by status and kind (push or pull).',
    labelNames: ['status', 'kind'] as const,
    registers: [this.readings],
    aggregator: 'first',
  });
  private readonly endpoints = new Gauge({
    name: 'herald_endpoints',
    help: "Push subscriptions by their endpoint's health (healthy, failing, suspended: the circuit breaker).",
    labelNames: ['health'] as const,
    registers: [this.readings],
    aggregator: 'first',
  });
  private readonly healthChanges = new Counter({
    name: 'herald_endpoint_health_changes_total',
    help: 'Endpoints suspended by the circuit breaker, and resumed by a probe, in this process.',
    labelNames: ['change'] as const,
    registers: [this.counts],
  });
  private readonly replayedDeliveries = new Counter({
    name: 'herald_replayed_deliveries_total',
    help: 'Deliveries enqueued by replays and backfills, in this process.',
    registers: [this.counts],
  });
  private readonly replays = new Gauge({
    name: 'herald_replays',
    help: 'Replays and backfills in progress in the store, by status (waiting, running).',
    labelNames: ['status'] as const,
    registers: [this.readings],
    aggregator: 'first',
  });
  private readonly secretRotations = new Counter({
    name: 'herald_secret_rotations_total',
    help: "Push subscriptions' signing secrets rotated through the API, in this process.",
    registers: [this.counts],
  });
  private readonly storeErrors = new Counter({
    name: 'herald_store_errors_total',
    help: 'Store failures, by kind (unavailable: cannot be reached or cannot write; query: a statement failed) and operation.',
    labelNames: ['kind', 'operation'] as const,
    registers: [this.counts],
  });

  /** Delivered deliveries whose latency the next scrape looks up. */
  private pendingLatencies: number[] = [];
  // Resolved once: publishing is the hot path, and finding a series by its labels costs more than counting.
  private readonly storedEvents = this.publishedEvents.labels({ outcome: 'stored' });
  private readonly duplicateEvents = this.publishedEvents.labels({ outcome: 'duplicate' });

  constructor() {
    // Zeros from the start, so rates and alerts work before the first event of each kind.
    for (const outcome of ['stored', 'duplicate', 'refused', 'failed'] as const) this.publishedEvents.inc({ outcome }, 0);
    this.deadLetters.inc(0);
    this.pulledEvents.inc(0);
    this.streamedEvents.inc(0);
    this.openStreams.set(0);
    this.blockedStreams.set(0);
    this.replayedDeliveries.inc(0);
    this.secretRotations.inc(0);
    for (const change of ['suspended', 'resumed'] as const) this.healthChanges.inc({ change }, 0);
  }

  /** A publish request committed: each event was new (`true`) or already stored. */
  published(stored: readonly boolean[], seconds: number): void {
    let fresh = 0;
    for (const isNew of stored) if (isNew) fresh++;
    if (fresh > 0) this.storedEvents.inc(fresh);
    if (fresh < stored.length) this.duplicateEvents.inc(stored.length - fresh);
    this.publishDuration.observe(seconds);
  }

  /** A publish request was answered with an error: refused (4xx) or failed (5xx). */
  publishNotStored(outcome: 'refused' | 'failed', events: number): void {
    this.publishedEvents.inc({ outcome }, events);
  }

  /** One group commit of `events` events succeeded. */
  committed(events: number): void {
    this.commitBatch.observe(events);
  }

  /** Counts a failure if it came from the store; anything else is left to the logs. */
  storeFailed(error: unknown, operation: StoreOperation): void {
    const kind = storeErrorKind(error);
    if (kind) this.storeErrors.inc({ kind, operation });
  }

  /**
   * A delivery attempt's outcome was recorded. `response` is absent when nothing was sent (the subscriber
   * may no longer read the event).
   */
  attempted(deliveryId: number, outcome: AttemptOutcome, response?: AttemptResponse): void {
    this.deliveries.inc({ outcome: outcome.kind, status_class: deliveryStatusClass(response) });
    if (outcome.kind === 'dead') this.deadLetters.inc();
    // The commit time lives in the database; it is looked up at the next scrape, in one statement for all.
    if (outcome.kind === 'delivered' && this.pendingLatencies.length < maxPendingLatencies) {
      this.pendingLatencies.push(deliveryId);
    }
  }

  /** The circuit breaker suspended or resumed an endpoint. */
  healthChanged(type: HealthEventType): void {
    this.healthChanges.inc({ change: type === 'herald.subscription.suspended' ? 'suspended' : 'resumed' });
  }

  /** A replay's piece enqueued `deliveries` deliveries. */
  replayed(deliveries: number): void {
    this.replayedDeliveries.inc(deliveries);
  }

  /** A subscription's signing secret was rotated. */
  secretRotated(): void {
    this.secretRotations.inc();
  }

  /** A pull subscription read returned `events` events. */
  pulled(events: number): void {
    this.pulledEvents.inc(events);
  }

  /** What event streams report: `StreamRouteObserver`. */
  readonly streams = {
    opened: () => this.openStreams.inc(),
    closed: () => this.openStreams.dec(),
    sent: (events: number) => this.streamedEvents.inc(events),
    blocked: (blocked: boolean) => (blocked ? this.blockedStreams.inc() : this.blockedStreams.dec()),
  };

  /**
   * Reads what the store knows (queue lag, subscriptions by status, delivery latencies) and renders Herald's
   * metrics in Prometheus' text format. A store that does not answer leaves the readings out (an absent series
   * is what an alert can catch) and counts as a store error; the counters are still reported.
   * @param now Herald's clock, the one due times are written with
   */
  async scrape(store: Store, now: number): Promise<string> {
    const readings = await this.readStoreGauges(store, now);
    await this.resolveLatencies(store);
    return `${await this.counts.metrics()}\n${readings}`;
  }

  /**
   * This process's counts for a `--workers` group scrape, its pending delivery latencies looked up first.
   * @example AggregatorRegistry.aggregate([await a.countsReport(store), await b.countsReport(store)])
   */
  async countsReport(store: Store): Promise<MetricsJson> {
    await this.resolveLatencies(store);
    return this.counts.getMetricsAsJSON();
  }

  /**
   * Reads the gauges from the store and renders them; on failure they are left out and counted as a store
   * error (in `counts`, so render those after this).
   */
  async readStoreGauges(store: Store, now: number): Promise<string> {
    try {
      await this.readGauges(store, now);
    } catch (error) {
      // Unregistered, not zeroed: a lag of 0 would say all is well.
      this.readings.removeSingleMetric('herald_delivery_queue_lag_seconds');
      this.subscriptions.reset();
      this.endpoints.reset();
      this.replays.reset();
      this.storeFailed(error, 'scrape');
    }
    return this.readings.metrics();
  }

  private async readGauges(store: Store, now: number): Promise<void> {
    const oldestDueAt = await store.deliveries.oldestDueAt(now);
    if (!this.readings.getSingleMetric('herald_delivery_queue_lag_seconds')) this.readings.registerMetric(this.queueLag);
    this.queueLag.set(oldestDueAt === null ? 0 : Math.max(0, now - oldestDueAt) / 1000);
    const counts = await store.subscriptions.countByStatus();
    // Reset first: a status no subscription has any more must read 0, not its last count.
    this.subscriptions.reset();
    for (const status of subscriptionStatuses) {
      for (const kind of ['push', 'pull']) this.subscriptions.set({ status, kind }, 0);
    }
    for (const { status, kind, count } of counts) this.subscriptions.set({ status, kind }, count);
    const health = await store.health.countByHealth();
    this.endpoints.reset();
    for (const state of endpointHealthStates) this.endpoints.set({ health: state }, 0);
    for (const { health: state, count } of health) this.endpoints.set({ health: state }, count);
    const replays = await store.replays.countInProgress();
    this.replays.reset();
    for (const status of inProgressReplayStatuses) this.replays.set({ status }, 0);
    for (const { status, count } of replays) this.replays.set({ status }, count);
  }

  /** Observes the latencies of deliveries made since the last look; a store failure counts and drops them. */
  private async resolveLatencies(store: Store): Promise<void> {
    const ids = this.pendingLatencies;
    this.pendingLatencies = [];
    try {
      for (let start = 0; start < ids.length; start += latencyLookupChunk) {
        const durations = await store.deliveries.deliveryDurations(ids.slice(start, start + latencyLookupChunk));
        for (const ms of durations) this.deliveryLatency.observe(Math.max(0, ms) / 1000);
      }
    } catch (error) {
      this.storeFailed(error, 'scrape');
    }
  }
}
