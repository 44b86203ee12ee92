import type { Store } from '../store/store.js';
import { type GroupMember, type MetricsJson, renderGroupMetrics, type WorkerReport } from './group-metrics.js';
import { type GroupMetricsMessage, isGroupMetricsMessage, primaryAnswerTimeoutMs } from './group-metrics-ipc.js';
import type { HeraldMetrics } from './herald-metrics.js';
import { processMetrics } from './process-metrics.js';

/** A worker's IPC channel to its primary: `process` in a node:cluster worker (`primaryChannel`). */
export interface PrimaryChannel {
  send(message: GroupMetricsMessage, done: (error: Error | null) => void): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/** This process's channel to the primary that forked it. */
export const primaryChannel: PrimaryChannel = {
  send: (message, done) => {
    if (process.send && process.connected) process.send(message, undefined, undefined, done);
    else done(new Error('no IPC channel to the primary'));
  },
  on: (event, listener) => process.on(event, listener),
  off: (event, listener) => process.off(event, listener),
};

export interface WorkerGroupMetricsOptions {
  readonly metrics: HeraldMetrics;
  readonly store: Store;
  /** This worker's place in the group, 1..size: its `worker` label. */
  readonly slot: number;
  /** How many workers the group runs (`--workers`). */
  readonly size: number;
  readonly channel?: PrimaryChannel;
  readonly timeoutMs?: number;
}

/**
 * A `--workers` worker's part of a scrape. Scraped, it reads the store's gauges itself (once for the whole
 * group: they are the shared database's, not this process's) and asks the primary for everyone's counts
 * and process metrics. If the primary does not answer in time it answers with its own, and says so. It
 * also answers the primary's requests for its report, whichever worker was scraped.
 */
export class WorkerGroupMetrics {
  private nextId = 0;
  private readonly waiting = new Map<number, (answer: string | MetricsJson) => void>();
  private readonly channel: PrimaryChannel;
  private readonly timeoutMs: number;
  private readonly onMessage = (message: unknown) => {
    if (isGroupMetricsMessage(message, 'herald:metrics:collect')) {
      void this.report().then(
        (report) => this.channel.send({ type: 'herald:metrics:report', id: message.id, report }, () => {}),
        () => {}, // Unanswered, the primary uses this worker's previous report and says so.
      );
    } else if (isGroupMetricsMessage(message, 'herald:metrics:scraped')) {
      this.waiting.get(message.id)?.(message.text);
    } else if (isGroupMetricsMessage(message, 'herald:metrics:counted')) {
      this.waiting.get(message.id)?.(message.counts);
    }
  };

  constructor(private readonly options: WorkerGroupMetricsOptions) {
    this.channel = options.channel ?? primaryChannel;
    this.timeoutMs = options.timeoutMs ?? primaryAnswerTimeoutMs;
  }

  /** Starts answering the primary's requests for this worker's report. */
  listen(): void {
    this.channel.on('message', this.onMessage);
  }

  stop(): void {
    this.channel.off('message', this.onMessage);
  }

  /**
   * The group's metrics in Prometheus' text format: what `GET /metrics` answers on a worker.
   * @param now Herald's clock, the one due times are written with
   */
  async render(now: number): Promise<string> {
    const [group, readings] = await Promise.all([this.askPrimary(), this.options.metrics.readStoreGauges(this.options.store, now)]);
    return `${group ?? (await this.alone())}\n${readings}`;
  }

  /** This worker's counts and process metrics, for the primary to aggregate. */
  private async report(): Promise<WorkerReport> {
    const counts = await this.options.metrics.countsReport(this.options.store);
    return { counts, process: await processMetrics().getMetricsAsJSON() };
  }

  /**
   * The whole group's counters and histograms summed, as data, for this worker's overview sampler; undefined
   * when the primary does not answer in time (the sampler then skips a sample rather than mix this worker's own
   * counts with the group's).
   */
  async groupCounts(): Promise<MetricsJson | undefined> {
    const answer = await this.ask('herald:metrics:counts');
    return typeof answer === 'object' ? answer : undefined;
  }

  /** The primary's aggregated text, or undefined when it does not answer in time. */
  private async askPrimary(): Promise<string | undefined> {
    const answer = await this.ask('herald:metrics:scrape');
    return typeof answer === 'string' ? answer : undefined;
  }

  /** Asks the primary; its answer, or undefined when it does not answer in time. */
  private ask(type: 'herald:metrics:scrape' | 'herald:metrics:counts'): Promise<string | MetricsJson | undefined> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const finish = (answer: string | MetricsJson | undefined) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(answer);
      };
      const timer = setTimeout(() => finish(undefined), this.timeoutMs);
      this.waiting.set(id, finish);
      this.channel.send({ type, id }, (error) => {
        if (error) finish(undefined);
      });
    });
  }

  /** Without the primary: this worker's own share, in the group's shape, the others counted as missing. */
  private async alone(): Promise<string> {
    const { slot, size } = this.options;
    const members: GroupMember[] = [{ slot, answer: 'fresh', report: await this.report() }];
    for (let other = 1; other <= size; other++) if (other !== slot) members.push({ slot: other, answer: 'missing' });
    return renderGroupMetrics(members, [], [
      `the primary did not answer within ${this.timeoutMs} ms: only worker ${slot}'s own counts, which are less than the group's.`,
    ]);
  }
}
