import type { DeliveryCounts } from '../store/delivery-counts.js';
import type { MetricsJson } from './group-metrics.js';

/** One point of the overview (docs/observability.md, "Overview"): the interval that ended at `time`. */
export interface OverviewSample {
  readonly time: string;
  /** Events stored (new ones: duplicates and refusals are not) per second over the interval. */
  readonly publishedPerSecond: number;
  /** Webhook deliveries answered with a 2xx per second over the interval. */
  readonly deliveredPerSecond: number;
  /** Publish-to-delivery latency of the deliveries made in the interval, from the histogram's buckets; null: none. */
  readonly latencyP50Ms: number | null;
  readonly latencyP99Ms: number | null;
  /** Herald-wide, at `time`: deliveries waiting, and dead letters; null when the store did not answer. */
  readonly backlog: number | null;
  readonly deadLetters: number | null;
  /** There when a count stopped at its cap (`heraldWideCountCap`): there are at least that many. */
  readonly countsCapped?: true;
}

export interface OverviewSamplerOptions {
  /**
   * Herald's counters and histograms as plain data: this process's (`HeraldMetrics.countsReport`, delivery
   * latencies resolved), or a `--workers` group's (`WorkerGroupMetrics.groupCounts`). Undefined when they cannot
   * be had now: no sample, and the next reading is a new baseline, so no rate mixes two sources.
   */
  readonly readCounts: () => Promise<MetricsJson | undefined>;
  /** The store's Herald-wide backlog and dead letters, bounded (`DeliveryCountQueries.heraldWide`). */
  readonly readTotals: () => Promise<DeliveryCounts>;
  readonly clock?: () => number;
  /** Default 10 s. */
  readonly intervalMs?: number;
  /** How far back samples are kept: default one hour. */
  readonly keepMs?: number;
  /** Told of a failed store read (the sample still goes in, its counts null). */
  readonly onStoreError?: (error: unknown) => void;
}

export const defaultOverviewIntervalMs = 10_000;
const defaultKeepMs = 3_600_000;

/** The three series the overview reads, as cumulative totals at one moment. */
interface Reading {
  readonly at: number;
  readonly published: number;
  readonly delivered: number;
  /** The latency histogram's cumulative buckets: upper bound in seconds (Infinity for +Inf) and count. */
  readonly latency: readonly (readonly [le: number, count: number])[];
}

/**
 * Herald's overview for the console: every interval it reads this process's own metrics (the counters a
 * Prometheus scrape reads) and the store's bounded Herald-wide counts, and keeps one sample per interval for
 * an hour in a ring buffer. Rates and latency quantiles are differences between two readings, so nothing is
 * counted twice and a sample costs a few small reads, however busy Herald is. `sample()` is the single step;
 * `start()` runs it on a timer until `stop()`.
 */
export class OverviewSampler {
  readonly intervalMs: number;
  private readonly clock: () => number;
  private readonly ring: (OverviewSample | undefined)[];
  private next = 0;
  private size = 0;
  private last: Reading | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: OverviewSamplerOptions) {
    this.intervalMs = options.intervalMs ?? defaultOverviewIntervalMs;
    this.clock = options.clock ?? Date.now;
    this.ring = new Array<OverviewSample | undefined>(Math.max(1, Math.floor((options.keepMs ?? defaultKeepMs) / this.intervalMs)));
  }

  /**
   * Takes one reading. The first only sets the baseline (the overview is empty right after a start); each
   * later one appends the sample of the interval since the one before.
   */
  async sample(): Promise<void> {
    const counts = await this.options.readCounts();
    if (!counts) {
      this.last = undefined;
      return;
    }
    const reading = readingOf(counts, this.clock());
    const totals = await this.options.readTotals().catch((error: unknown) => {
      this.options.onStoreError?.(error);
      return undefined;
    });
    const before = this.last;
    this.last = reading;
    if (!before || reading.at <= before.at) return;
    const seconds = (reading.at - before.at) / 1000;
    this.push({
      time: new Date(reading.at).toISOString(),
      publishedPerSecond: rate(reading.published - before.published, seconds),
      deliveredPerSecond: rate(reading.delivered - before.delivered, seconds),
      latencyP50Ms: latencyQuantileMs(before.latency, reading.latency, 0.5),
      latencyP99Ms: latencyQuantileMs(before.latency, reading.latency, 0.99),
      backlog: totals?.backlog ?? null,
      deadLetters: totals?.deadLetters ?? null,
      ...(totals?.capped ? { countsCapped: true as const } : {}),
    });
  }

  /** The samples kept, oldest first. */
  samples(): OverviewSample[] {
    const kept: OverviewSample[] = [];
    for (let i = 0; i < this.size; i++) {
      const sample = this.ring[(this.next - this.size + i + this.ring.length) % this.ring.length];
      if (sample) kept.push(sample);
    }
    return kept;
  }

  /** Takes the baseline now, then a sample every interval; the timer does not keep the process alive. */
  start(): void {
    if (this.timer) return;
    const tick = () => {
      // One reading at a time: a slow store makes a longer interval, not a pile of reads.
      if (this.running) return;
      this.running = this.sample()
        .catch((error: unknown) => this.options.onStoreError?.(error))
        .finally(() => {
          this.running = undefined;
        });
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a reading under way (shutdown closes the store next). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private push(sample: OverviewSample): void {
    this.ring[this.next] = sample;
    this.next = (this.next + 1) % this.ring.length;
    this.size = Math.min(this.size + 1, this.ring.length);
  }
}

function rate(delta: number, seconds: number): number {
  // A counter only goes down when its process restarts: no rate rather than a negative one.
  return delta <= 0 ? 0 : Math.round((delta / seconds) * 1000) / 1000;
}

function readingOf(metrics: MetricsJson, at: number): Reading {
  const values = (name: string) => metrics.find((metric) => metric.name === name)?.values ?? [];
  const sum = (name: string, labels: Record<string, string>) =>
    values(name)
      .filter((value) => Object.entries(labels).every(([key, wanted]) => String(value.labels[key]) === wanted))
      .reduce((total, value) => total + value.value, 0);
  const latency = values('herald_delivery_latency_seconds')
    .filter((value) => (value as { metricName?: string }).metricName === 'herald_delivery_latency_seconds_bucket')
    .map((value) => [value.labels.le === '+Inf' ? Infinity : Number(value.labels.le), value.value] as const)
    .sort((a, b) => a[0] - b[0]);
  return {
    at,
    published: sum('herald_published_events_total', { outcome: 'stored' }),
    delivered: sum('herald_deliveries_total', { outcome: 'delivered' }),
    latency,
  };
}

/**
 * The `q` quantile, in milliseconds, of what a histogram observed between two readings of its cumulative
 * buckets, interpolated within the bucket it falls in (as Prometheus' `histogram_quantile` does). Past the
 * last finite bucket it is that bucket's bound; null when nothing was observed.
 * @example latencyQuantileMs([[0.1, 0], [1, 0], [Infinity, 0]], [[0.1, 2], [1, 4], [Infinity, 4]], 0.5) // 100
 */
export function latencyQuantileMs(
  before: readonly (readonly [number, number])[],
  after: readonly (readonly [number, number])[],
  q: number,
): number | null {
  const earlier = new Map(before);
  const deltas = after.map(([le, count]) => [le, count - (earlier.get(le) ?? 0)] as const);
  const total = deltas.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [le, cumulative] of deltas) {
    if (cumulative >= rank) {
      if (le === Infinity) return Math.round(lower * 1000);
      const within = cumulative - below;
      const seconds = within > 0 ? lower + ((le - lower) * (rank - below)) / within : le;
      return Math.round(seconds * 1000 * 10) / 10;
    }
    lower = le;
    below = cumulative;
  }
  return Math.round(lower * 1000);
}
