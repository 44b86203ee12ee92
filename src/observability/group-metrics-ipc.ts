import type { MetricsJson, WorkerReport } from './group-metrics.js';

/**
 * The messages of a `--workers` group scrape, over node:cluster's IPC channel:
 * the scraped worker asks the primary (`scrape`), the primary asks every worker (`collect`), each answers
 * (`report`), and the primary sends the aggregated text back (`scraped`). A worker's overview sampler asks the
 * same way for the summed counts as data (`counts`, answered `counted`). Ids pair answers with questions.
 */
export type GroupMetricsMessage =
  | { readonly type: 'herald:metrics:scrape'; readonly id: number }
  | { readonly type: 'herald:metrics:collect'; readonly id: number }
  | { readonly type: 'herald:metrics:report'; readonly id: number; readonly report: WorkerReport }
  | { readonly type: 'herald:metrics:scraped'; readonly id: number; readonly text: string }
  // A worker's overview sampler asks for the group's counts as data (docs/observability.md, "Overview").
  | { readonly type: 'herald:metrics:counts'; readonly id: number }
  | { readonly type: 'herald:metrics:counted'; readonly id: number; readonly counts: MetricsJson };

/** How long the primary waits for each worker's report: a scrape must not hang on one stuck worker. */
export const workerReportTimeoutMs = 1_000;
/** How long a scraped worker waits for the primary: its own wait for the workers, plus room to aggregate. */
export const primaryAnswerTimeoutMs = 2_500;

/** Narrows what arrives on the IPC channel (node:cluster's own messages and any other kind pass by). */
export function isGroupMetricsMessage<T extends GroupMetricsMessage['type']>(
  message: unknown,
  type: T,
): message is Extract<GroupMetricsMessage, { type: T }> {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === type &&
    typeof (message as { id?: unknown }).id === 'number'
  );
}
