import { AggregatorRegistry, Gauge, Registry } from 'prom-client';

/** A registry's metrics as plain data (`registry.getMetricsAsJSON()`): what workers send over IPC. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** What one worker reports when the primary collects: what it counted, and its process's own metrics. */
export interface WorkerReport {
  readonly counts: MetricsJson;
  readonly process: MetricsJson;
}

/**
 * How a worker's share got into a group scrape: `fresh`, answered just now; `stale`, it did not answer in
 * time and its previous answer stands in; `missing`, nothing of it is included.
 */
export type WorkerAnswer = 'fresh' | 'stale' | 'missing';

export interface GroupMember {
  /** Its place in the group, 1..N; a replacement takes the place of the worker it replaces. */
  readonly slot: number;
  readonly answer: WorkerAnswer;
  /** The report used: the fresh one, or the last one for a stale member. */
  readonly report?: WorkerReport | undefined;
}

/**
 * One scrape for the whole `--workers` group, in Prometheus' text format (the store's readings are added by
 * the worker that answers). Herald's counters and histograms are summed over the members and over
 * `retiredCounts` (the last counts of workers that died, so a restart does not make the group's counters
 * go backwards). Process metrics (memory, CPU, event loop lag, GC) describe one process each: they are
 * kept apart with a `worker` label rather than added up, and only from members that answered now.
 * `herald_metrics_workers` says how many members each answer covers; `notes` become comment lines
 * (Prometheus ignores them) for whoever reads the scrape by hand.
 * @example await renderGroupMetrics([{ slot: 1, answer: 'fresh', report }], [], [])
 */
export async function renderGroupMetrics(
  members: readonly GroupMember[],
  retiredCounts: readonly MetricsJson[],
  notes: readonly string[],
): Promise<string> {
  const counts = [...retiredCounts, ...members.flatMap((member) => (member.report ? [member.report.counts] : []))];
  const processes = members.flatMap((member) =>
    member.answer === 'fresh' && member.report ? [labelWorker(member.report.process, member.slot)] : [],
  );
  const aggregated = await AggregatorRegistry.aggregate([...counts, ...processes]).metrics();
  const comments = notes.map((note) => `# herald: ${note}\n`).join('');
  return `${aggregated}\n${await answersMetric(members)}${comments}`;
}

/**
 * Adds `worker="<slot>"` to every series. Each series is then one process's own, so the aggregator only
 * passes it through: `first` replaces prom-client's choices (`omit` would drop `process_start_time_seconds`,
 * which shows when a worker was restarted).
 */
export function labelWorker(metrics: MetricsJson, slot: number): MetricsJson {
  return metrics.map((metric) => ({
    ...metric,
    aggregator: 'first',
    values: metric.values.map((value) => ({ ...value, labels: { ...value.labels, worker: String(slot) } })),
  }));
}

async function answersMetric(members: readonly GroupMember[]): Promise<string> {
  const registry = new Registry();
  const gauge = new Gauge({
    name: 'herald_metrics_workers',
    help: 'Workers in this scrape, by answer: fresh (answered now), stale (did not answer in time: its previous counts stand in), missing (not included).',
    labelNames: ['answer'] as const,
    registers: [registry],
  });
  for (const answer of ['fresh', 'stale', 'missing'] as const) {
    gauge.set({ answer }, members.filter((member) => member.answer === answer).length);
  }
  return registry.metrics();
}

/**
 * Says which workers did not answer the primary in time, for `renderGroupMetrics`' notes.
 * @example lateNotes([{ slot: 2, answer: 'stale' }], 1_000) // ['worker 2 did not answer within 1000 ms: …']
 */
export function lateNotes(members: readonly GroupMember[], waitedMs: number): string[] {
  const slots = (answer: WorkerAnswer) => members.filter((member) => member.answer === answer).map((member) => member.slot);
  const notes = [];
  const stale = slots('stale');
  if (stale.length > 0) notes.push(`worker ${stale.join(', ')} did not answer within ${waitedMs} ms: its counts are from its previous answer.`);
  const missing = slots('missing');
  if (missing.length > 0) notes.push(`worker ${missing.join(', ')} did not answer within ${waitedMs} ms and never answered before: not included.`);
  return notes;
}
