import { describe, expect, it } from 'vitest';
import { HeraldMetrics } from '../../src/observability/herald-metrics.js';
import { latencyQuantileMs, OverviewSampler } from '../../src/observability/overview-sampler.js';
import type { DeliveryCounts } from '../../src/store/delivery-counts.js';
import type { Store } from '../../src/store/store.js';

const inf = Number.POSITIVE_INFINITY;

describe('latencyQuantileMs', () => {
  const none = [[0.1, 0], [1, 0], [inf, 0]] as const;

  it('is null when nothing was observed between the readings', () => {
    expect(latencyQuantileMs(none, none, 0.5)).toBeNull();
    const some = [[0.1, 3], [1, 5], [inf, 5]] as const;
    expect(latencyQuantileMs(some, some, 0.99)).toBeNull();
  });

  it('interpolates within the bucket the quantile falls in, from the differences of cumulative buckets', () => {
    const before = [[0.1, 10], [1, 10], [inf, 10]] as const;
    // Four new observations: two up to 100 ms, two between 100 ms and 1 s.
    const after = [[0.1, 12], [1, 14], [inf, 14]] as const;
    expect(latencyQuantileMs(before, after, 0.5)).toBe(100);
    expect(latencyQuantileMs(before, after, 0.25)).toBe(50);
    expect(latencyQuantileMs(before, after, 0.99)).toBeCloseTo(982, 0);
  });

  it('answers the last finite bound for what lies past it', () => {
    expect(latencyQuantileMs(none, [[0.1, 0], [1, 0], [inf, 2]], 0.5)).toBe(1000);
  });
});

/** A sampler on metrics of its own, with a clock and store counts the test sets. */
function sampler(keepMs = 60_000) {
  const metrics = new HeraldMetrics();
  let now = 1_700_000_000_000;
  let totals: DeliveryCounts | Error = { backlog: 4, deadLetters: 1, capped: false };
  const noStore = {
    deliveries: { deliveryDurations: async (ids: readonly number[]) => ids.map(() => 250) },
  } as unknown as Store;
  const overview = new OverviewSampler({
    readCounts: () => metrics.countsReport(noStore),
    readTotals: async () => {
      if (totals instanceof Error) throw totals;
      return totals;
    },
    clock: () => now,
    intervalMs: 10_000,
    keepMs,
  });
  return {
    metrics,
    overview,
    advance: (ms: number) => (now += ms),
    setTotals: (next: DeliveryCounts | Error) => (totals = next),
  };
}

describe('OverviewSampler', () => {
  it('is empty after its first reading, which only sets the baseline', async () => {
    const { overview } = sampler();
    await overview.sample();
    expect(overview.samples()).toEqual([]);
  });

  it('turns the counters into rates over the interval, and the latency histogram into quantiles', async () => {
    const { metrics, overview, advance } = sampler();
    await overview.sample();
    metrics.published([true, true, true, false], 0.01); // three new, one duplicate
    for (const id of [1, 2]) metrics.attempted(id, { kind: 'delivered', statusCode: 200 });
    // A retry is no delivery.
    metrics.attempted(3, { kind: 'retry', statusCode: 500, error: 'x', nextAttemptAt: 0 } as never);
    advance(10_000);
    await overview.sample();
    const [sample] = overview.samples();
    expect(sample).toEqual({
      time: new Date(1_700_000_010_000).toISOString(),
      publishedPerSecond: 0.3,
      deliveredPerSecond: 0.2,
      // Both deliveries took 250 ms: inside the 100 ms to 500 ms bucket.
      latencyP50Ms: expect.any(Number),
      latencyP99Ms: expect.any(Number),
      backlog: 4,
      deadLetters: 1,
    });
    expect(sample!.latencyP50Ms).toBeGreaterThan(100);
    expect(sample!.latencyP99Ms).toBeLessThanOrEqual(500);
    advance(10_000);
    await overview.sample();
    expect(overview.samples()[1]).toMatchObject({ publishedPerSecond: 0, deliveredPerSecond: 0, latencyP50Ms: null, latencyP99Ms: null });
  });

  it('keeps an hour (here: three intervals) of samples, oldest first', async () => {
    const { overview, advance } = sampler(30_000);
    await overview.sample();
    for (let n = 1; n <= 5; n++) {
      advance(10_000);
      await overview.sample();
    }
    expect(overview.samples().map((s) => s.time)).toEqual(
      [30_000, 40_000, 50_000].map((ms) => new Date(1_700_000_000_000 + ms).toISOString()),
    );
  });

  it('says when a count stopped at its cap, and gives null counts when the store does not answer', async () => {
    const { overview, advance, setTotals } = sampler();
    await overview.sample();
    setTotals({ backlog: 100_000, deadLetters: 2, capped: true });
    advance(10_000);
    await overview.sample();
    setTotals(new Error('store down'));
    advance(10_000);
    await overview.sample();
    const [capped, unknown] = overview.samples();
    expect(capped).toMatchObject({ backlog: 100_000, deadLetters: 2, countsCapped: true });
    expect(unknown).toMatchObject({ backlog: null, deadLetters: null });
    expect(unknown).not.toHaveProperty('countsCapped');
  });

  it('stops sampling when stopped', async () => {
    const { overview } = sampler();
    overview.start();
    await overview.stop();
    // The baseline was taken (or is not): either way no timer is left to keep the process or the store busy.
    const before = overview.samples().length;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(overview.samples()).toHaveLength(before);
  });
});
