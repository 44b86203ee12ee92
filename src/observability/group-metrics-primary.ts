import { AggregatorRegistry } from 'prom-client';
import { type GroupMember, lateNotes, type MetricsJson, renderGroupMetrics, type WorkerReport } from './group-metrics.js';
import { type GroupMetricsMessage, isGroupMetricsMessage, workerReportTimeoutMs } from './group-metrics-ipc.js';

export interface GroupMetricsCollectorOptions<W> {
  /** The live workers and their slots, asked at every scrape. */
  readonly members: () => ReadonlyArray<{ readonly worker: W; readonly slot: number }>;
  /** Sends a message to a worker; `done` gets an error when the channel is closed. */
  readonly send: (worker: W, message: GroupMetricsMessage, done: (error: Error | null) => void) => void;
  readonly timeoutMs?: number;
}

/** Retired workers' counts are folded into one entry once there are this many. */
const retiredFoldAt = 8;

/**
 * The primary's part of a `--workers` scrape. A worker that is scraped asks here; the primary asks every
 * live worker for its report, waits at most `timeoutMs` for each, and answers the aggregated text
 * (`renderGroupMetrics`). A worker that does not answer in time is represented by its previous report,
 * and a worker that exits leaves its last counts in the totals, so the group's counters only go backwards
 * when the primary itself restarts.
 */
export class GroupMetricsCollector<W> {
  private nextId = 0;
  private readonly waiting = new Map<number, { readonly worker: W; readonly resolve: (report: WorkerReport) => void }>();
  private readonly lastReports = new Map<W, WorkerReport>();
  private readonly exited = new WeakSet<object>();
  private retired: MetricsJson[] = [];
  private folding = false;
  private readonly timeoutMs: number;

  constructor(private readonly options: GroupMetricsCollectorOptions<W>) {
    this.timeoutMs = options.timeoutMs ?? workerReportTimeoutMs;
  }

  /** A message from a worker: a scrape to answer, or a report being waited for; anything else passes by. */
  received(worker: W, message: unknown): void {
    if (isGroupMetricsMessage(message, 'herald:metrics:report')) {
      const waiter = this.waiting.get(message.id);
      if (waiter?.worker !== worker) return;
      this.waiting.delete(message.id);
      if (!this.exited.has(worker as object)) this.lastReports.set(worker, message.report);
      waiter.resolve(message.report);
    } else if (isGroupMetricsMessage(message, 'herald:metrics:scrape')) {
      void this.answer(worker, message.id);
    } else if (isGroupMetricsMessage(message, 'herald:metrics:counts')) {
      void this.answerCounts(worker, message.id);
    }
  }

  /** A worker exited: its last counts stay in the group's totals (its process metrics go with it). */
  retire(worker: W): void {
    this.exited.add(worker as object);
    const last = this.lastReports.get(worker);
    this.lastReports.delete(worker);
    if (!last) return;
    this.retired.push(last.counts);
    if (this.retired.length >= retiredFoldAt && !this.folding) void this.foldRetired();
  }

  /** The whole group's metrics, from one round of reports. */
  async render(): Promise<string> {
    const included = await this.gather();
    return renderGroupMetrics(included, this.retired, lateNotes(included, this.timeoutMs));
  }

  /**
   * The whole group's counters and histograms summed, as data: what a worker's overview sampler reads
   * (`OverviewSampler`), from one round of reports like a scrape.
   */
  async counts(): Promise<MetricsJson> {
    const included = await this.gather();
    const counts = included.flatMap((member) => (member.report ? [member.report.counts] : []));
    return AggregatorRegistry.aggregate([...this.retired, ...counts]).getMetricsAsJSON();
  }

  /** One round of reports: each live worker's fresh one, or its previous one when it is late. */
  private async gather(): Promise<GroupMember[]> {
    const members = this.options.members();
    const reports = await Promise.all(members.map(({ worker }) => this.collect(worker)));
    const included: GroupMember[] = [];
    members.forEach(({ worker, slot }, index) => {
      // One that exited meanwhile is counted in `retired` already.
      if (this.exited.has(worker as object)) return;
      const fresh = reports[index];
      const last = this.lastReports.get(worker);
      if (fresh) included.push({ slot, answer: 'fresh', report: fresh });
      else if (last) included.push({ slot, answer: 'stale', report: last });
      else included.push({ slot, answer: 'missing' });
    });
    return included;
  }

  private async answer(requester: W, id: number): Promise<void> {
    let text: string;
    try {
      text = await this.render();
    } catch {
      return; // The worker stops waiting after its timeout and answers with its own metrics, saying so.
    }
    this.options.send(requester, { type: 'herald:metrics:scraped', id, text }, () => {});
  }

  private async answerCounts(requester: W, id: number): Promise<void> {
    let counts: MetricsJson;
    try {
      counts = await this.counts();
    } catch {
      return; // The worker's sampler stops waiting after its timeout and skips that sample.
    }
    this.options.send(requester, { type: 'herald:metrics:counted', id, counts }, () => {});
  }

  /** One worker's report, or undefined when it does not answer within the timeout. */
  private collect(worker: W): Promise<WorkerReport | undefined> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(undefined);
      }, this.timeoutMs);
      const finish = (report: WorkerReport | undefined) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(report);
      };
      this.waiting.set(id, { worker, resolve: finish });
      this.options.send(worker, { type: 'herald:metrics:collect', id }, (error) => {
        if (error) finish(undefined);
      });
    });
  }

  /** Sums the retired counts into one entry, keeping any that retired while it worked. */
  private async foldRetired(): Promise<void> {
    this.folding = true;
    const folding = this.retired.length;
    try {
      const folded = await AggregatorRegistry.aggregate(this.retired.slice(0, folding)).getMetricsAsJSON();
      this.retired = [folded, ...this.retired.slice(folding)];
    } finally {
      this.folding = false;
    }
  }
}
