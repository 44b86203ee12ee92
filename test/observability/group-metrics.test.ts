import { AggregatorRegistry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupMetricsCollector } from '../../src/observability/group-metrics-primary.js';
import type { GroupMetricsMessage } from '../../src/observability/group-metrics-ipc.js';
import { type PrimaryChannel, WorkerGroupMetrics } from '../../src/observability/group-metrics-worker.js';
import { HeraldMetrics } from '../../src/observability/herald-metrics.js';
import { OverviewSampler } from '../../src/observability/overview-sampler.js';
import type { Store } from '../../src/store/store.js';
import { engines, type TestDatabase } from '../support/engines.js';
import { validEvent } from '../support/test-app.js';
import { parseScrape } from './prometheus-text.js';

const resource = 'urn:altinn:resource:dodsbo.domstoladmin.api';
/** Short, so the tests of late answers do not wait long; nothing here depends on how long it is. */
const timeoutMs = 100;

/** One worker of an in-process group: its own metrics, and a channel to the primary that can fall silent. */
interface Member {
  readonly slot: number;
  readonly metrics: HeraldMetrics;
  readonly group: WorkerGroupMetrics;
  readonly listeners: Set<(message: unknown) => void>;
  /** When set, it does not hear the primary (a stuck worker). */
  deaf: boolean;
}

/**
 * A `--workers` group in one process: the primary's collector and each worker's part, joined by channels that
 * carry messages as node:cluster's IPC does (serialized as JSON, delivered on a later turn).
 */
function inProcessGroup(store: Store, size: number, options: { primarySilent?: boolean } = {}) {
  const live: Member[] = [];
  const carry = (message: unknown) => JSON.parse(JSON.stringify(message)) as unknown;
  const collector = new GroupMetricsCollector<Member>({
    members: () => live.map((worker) => ({ worker, slot: worker.slot })),
    send: (member, message: GroupMetricsMessage, done) => {
      done(null);
      if (!member.deaf) setImmediate(() => member.listeners.forEach((listener) => listener(carry(message))));
    },
    timeoutMs,
  });
  const join = (slot: number): Member => {
    const listeners = new Set<(message: unknown) => void>();
    const member = { slot, metrics: new HeraldMetrics(), listeners, deaf: false } as Member;
    const channel: PrimaryChannel = {
      send: (message, done) => {
        done(null);
        const silenced = options.primarySilent && (message.type === 'herald:metrics:scrape' || message.type === 'herald:metrics:counts');
        if (!silenced) setImmediate(() => collector.received(member, carry(message)));
      },
      on: (_event, listener) => listeners.add(listener),
      off: (_event, listener) => listeners.delete(listener),
    };
    Object.assign(member, { group: new WorkerGroupMetrics({ metrics: member.metrics, store, slot, size, channel, timeoutMs: timeoutMs * 3 }) });
    member.group.listen();
    live.push(member);
    return member;
  };
  const members = Array.from({ length: size }, (_, index) => join(index + 1));
  const exit = (member: Member) => {
    live.splice(live.indexOf(member), 1);
    member.group.stop();
    collector.retire(member);
  };
  return { members, collector, join, exit };
}

describe('group metrics for herald serve --workers', () => {
  let db: TestDatabase;
  let store: Store;
  /** Herald's clock for the scrapes: a minute after the one due delivery was due. */
  let now: number;
  beforeEach(async () => {
    db = await (engines[0] as (typeof engines)[number]).create();
    store = await db.open();
    const subscription = (endpoint: string | null, identity: string) =>
      store.subscriptions.create({
        consumer: '/org/ttd',
        endpoint,
        sourceFilter: null,
        resourceFilter: resource,
        subjectFilter: null,
        alternativeSubjectFilter: null,
        typeFilter: null,
        createdBy: '/org/ttd',
        secret: 'whsec_x',
        identity,
        status: 'active',
        nextValidationAt: null,
        validatedAt: Date.now(),
        now: Date.now(),
      });
    const { subscription: push } = await subscription('https://hooks.example.com/a', 'push');
    await subscription(null, 'pull');
    await store.appendEvents([validEvent({ resource })], () => [push.id]);
    now = Date.now() + 60_000;
  });
  afterEach(async () => {
    await db.destroy();
  });

  it("declares the database readings so that aggregating several workers' readings never adds them up", async () => {
    const readings = [new HeraldMetrics(), new HeraldMetrics()];
    for (const metrics of readings) await metrics.readStoreGauges(store, now);
    const aggregated = parseScrape(await AggregatorRegistry.aggregate(await Promise.all(readings.map((m) => m.readings.getMetricsAsJSON()))).metrics());
    const single = parseScrape(await (readings[0] as HeraldMetrics).readings.metrics());
    expect(single.value('herald_delivery_queue_lag_seconds')).toBeGreaterThanOrEqual(60);
    expect(aggregated.value('herald_delivery_queue_lag_seconds')).toBe(single.value('herald_delivery_queue_lag_seconds'));
    expect(aggregated.value('herald_subscriptions', { status: 'active', kind: 'push' })).toBe(1);
    expect(aggregated.value('herald_subscriptions', { status: 'active', kind: 'pull' })).toBe(1);
  });

  it("sums every worker's counts whichever worker is scraped, reads the database once, and labels each process's own metrics", async () => {
    const { members } = inProcessGroup(store, 2);
    const [first, second] = members as [Member, Member];
    first.metrics.published([true, true, true], 0.01);
    second.metrics.published([true, false], 0.02);
    const alone = parseScrape(await new HeraldMetrics().scrape(store, now));

    for (const scraped of members) {
      const scrape = parseScrape(await scraped.group.render(now));
      expect(scrape.value('herald_published_events_total', { outcome: 'stored' })).toBe(4);
      expect(scrape.value('herald_published_events_total', { outcome: 'duplicate' })).toBe(1);
      expect(scrape.value('herald_publish_duration_seconds_count')).toBe(2);
      expect(scrape.value('herald_delivery_queue_lag_seconds')).toBe(alone.value('herald_delivery_queue_lag_seconds'));
      expect(scrape.value('herald_subscriptions', { status: 'active', kind: 'pull' })).toBe(1);
      expect(scrape.value('herald_metrics_workers', { answer: 'fresh' })).toBe(2);
      expect(scrape.value('process_start_time_seconds', { worker: '1' })).toBeGreaterThan(0);
      expect(scrape.value('process_start_time_seconds', { worker: '2' })).toBeGreaterThan(0);
      expect(scrape.value('process_start_time_seconds')).toBeUndefined();
    }
  });

  it("uses a late worker's previous counts (or leaves out one that never answered) and says so", async () => {
    const { members } = inProcessGroup(store, 3);
    const [first, second, third] = members as [Member, Member, Member];
    for (const member of members) member.metrics.published([true], 0.01);
    third.deaf = true; // before it ever answered
    expect(parseScrape(await first.group.render(now)).value('herald_published_events_total', { outcome: 'stored' })).toBe(2);

    second.deaf = true; // after it answered once
    second.metrics.published([true], 0.01);
    const text = await first.group.render(now);
    const scrape = parseScrape(text);
    expect(scrape.value('herald_published_events_total', { outcome: 'stored' })).toBe(2);
    expect(['fresh', 'stale', 'missing'].map((answer) => scrape.value('herald_metrics_workers', { answer }))).toEqual([1, 1, 1]);
    expect(text).toContain(`# herald: worker 2 did not answer within ${timeoutMs} ms: its counts are from its previous answer.`);
    expect(text).toContain(`# herald: worker 3 did not answer within ${timeoutMs} ms and never answered before: not included.`);
    expect(scrape.value('process_start_time_seconds', { worker: '2' })).toBeUndefined();
  });

  it("keeps the counts of workers that exited, so the group's counters never go backwards", async () => {
    const group = inProcessGroup(store, 1);
    let survivor = group.members[0] as Member;
    // More exits than the collector keeps apart before it folds them into one.
    for (let round = 1; round <= 12; round++) {
      survivor.metrics.published([true], 0.01);
      await survivor.group.render(now);
      group.exit(survivor);
      survivor = group.join(1);
    }
    await new Promise((resolve) => setTimeout(resolve, 10)); // the fold finishes in the background
    survivor.metrics.published([true, true], 0.01);
    const scrape = parseScrape(await survivor.group.render(now));
    expect(scrape.value('herald_published_events_total', { outcome: 'stored' })).toBe(14);
    expect(scrape.value('herald_publish_duration_seconds_count')).toBe(13);
    expect(scrape.value('herald_metrics_workers', { answer: 'fresh' })).toBe(1);
  });

  it('answers with its own share and says so when the primary does not answer', async () => {
    const { members } = inProcessGroup(store, 2, { primarySilent: true });
    const [first, second] = members as [Member, Member];
    first.metrics.published([true, true], 0.01);
    second.metrics.published([true], 0.01);
    const text = await first.group.render(now);
    const scrape = parseScrape(text);
    expect(scrape.value('herald_published_events_total', { outcome: 'stored' })).toBe(2);
    expect(scrape.value('herald_metrics_workers', { answer: 'fresh' })).toBe(1);
    expect(scrape.value('herald_metrics_workers', { answer: 'missing' })).toBe(1);
    expect(scrape.value('herald_subscriptions', { status: 'active', kind: 'push' })).toBe(1);
    expect(scrape.value('process_start_time_seconds', { worker: '1' })).toBeGreaterThan(0);
    expect(text).toContain("# herald: the primary did not answer within 300 ms: only worker 1's own counts");
  });

  describe("the overview's sampler in a worker", () => {
    /** One sampler per worker, as `server.ts` makes them, on a clock the test moves. */
    const samplersOf = (members: readonly Member[], clock: () => number) =>
      members.map(
        (member) =>
          new OverviewSampler({ readCounts: () => member.group.groupCounts(), readTotals: () => store.deliveries.counts.heraldWide(), clock }),
      );

    it("reads the group's counts, so whichever worker answers gives the group's rates", async () => {
      const { members } = inProcessGroup(store, 2);
      const [first, second] = members as [Member, Member];
      let at = 1_800_000_000_000;
      const samplers = samplersOf(members, () => at);
      for (const sampler of samplers) await sampler.sample();
      first.metrics.published([true, true, true], 0.01);
      second.metrics.published([true], 0.01);
      first.metrics.attempted(101, { kind: 'delivered', statusCode: 200 });
      second.metrics.attempted(102, { kind: 'delivered', statusCode: 200 });
      at += 10_000;
      for (const sampler of samplers) await sampler.sample();
      for (const sampler of samplers) {
        expect(sampler.samples()).toEqual([
          expect.objectContaining({ publishedPerSecond: 0.4, deliveredPerSecond: 0.2, backlog: 1, deadLetters: 0 }),
        ]);
      }
    });

    it("skips the samples the primary does not answer for, rather than mix a worker's own counts with the group's", async () => {
      const { members } = inProcessGroup(store, 2, { primarySilent: true });
      let at = 1_800_000_000_000;
      const [sampler] = samplersOf(members, () => at) as [OverviewSampler];
      await sampler.sample();
      (members[0] as Member).metrics.published([true], 0.01);
      at += 10_000;
      await sampler.sample();
      expect(sampler.samples()).toEqual([]);
    });
  });
});
