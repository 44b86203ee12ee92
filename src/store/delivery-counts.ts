import { deliveryTransition, waitingDeliveryStatuses } from '../domain/delivery-status.js';
import type { SqlExecutor } from './sql-executor.js';
import { statusIn } from './status-sql.js';

/**
 * A subscription's backlog (deliveries waiting to be sent, or queued and not yet acknowledged by its puller)
 * and dead letters, each counted up to a cap. `capped` says a count stopped at its cap: there are at least
 * that many (docs/subscriptions.md, "Backlog and dead letters").
 */
export interface DeliveryCounts {
  readonly backlog: number;
  readonly deadLetters: number;
  readonly capped: boolean;
}

/**
 * Counted per subscription at most: a listing's page reads at most twice this many index entries per
 * subscription (2,000 × 100 for the default page), however long their queues. A console shows "1,000+"; the
 * exact size of a long queue is the CLI's and the metrics' business.
 */
export const subscriptionCountCap = 1_000;

/**
 * A cap no queue reaches, for the operator's CLI (`herald subscriptions list`), which shows exact counts: it is
 * run by hand, and its cost is the queues' size.
 */
export const exactCountCap = 1_000_000_000;

/** Counted Herald-wide at most, for the overview's samples (one count every sampling interval). */
export const heraldWideCountCap = 100_000;

/** The statuses of dead letters: those a redrive takes. */
const dead = deliveryTransition('redriven').from;

/**
 * The waiting deliveries of subscription `s`: those after its acknowledged position (a pull queue's reader
 * moved past the rest; a push subscription's position stays 0), with `d` the deliveries.
 */
const waiting = `d.subscription_id = s.id AND ${statusIn('d.status', waitingDeliveryStatuses)} AND d.id > s.acknowledged_delivery_id`;
const deadOf = `d.subscription_id = s.id AND ${statusIn('d.status', dead)}`;

/**
 * Backlog and dead-letter counts, in SQL both engines share. Each count is served by the
 * `deliveries_subscription_status` index (subscription, status, id): it reads only the matching entries, never
 * the delivered history, and stops at its cap (LIMIT inside, count outside), so its cost is bounded whatever
 * the table holds.
 */
export class DeliveryCountQueries {
  constructor(private readonly sql: SqlExecutor) {}

  /**
   * The counts of each of these subscriptions, in one statement however many there are (a listing's page).
   * Subscriptions that do not exist are left out.
   * @example await store.deliveries.counts.bySubscription([1, 2]) // Map { 1 => { backlog: 3, deadLetters: 0, capped: false }, … }
   */
  async bySubscription(subscriptionIds: readonly number[], cap = subscriptionCountCap): Promise<Map<number, DeliveryCounts>> {
    if (subscriptionIds.length === 0) return new Map();
    // One more than the cap, so a count at the cap can be told from one beyond it.
    const rows = await this.sql.all<{ id: number | string; backlog: number | string; dead: number | string }>(
      `SELECT s.id,
         (SELECT count(*) FROM (SELECT 1 FROM deliveries d WHERE ${waiting} LIMIT $2) AS w) AS backlog,
         (SELECT count(*) FROM (SELECT 1 FROM deliveries d WHERE ${deadOf} LIMIT $2) AS x) AS dead
       FROM subscriptions s WHERE ${this.sql.inList('s.id', 1)}`,
      [subscriptionIds, cap + 1],
    );
    return new Map(rows.map((row) => [Number(row.id), bounded(Number(row.backlog), Number(row.dead), cap)]));
  }

  /**
   * Every subscription's counts together, each total stopped at `cap`: what the overview samples. Read
   * subscription by subscription through the same index (`joinEach`: a nested loop, never a scan of the
   * table), so the cost is the number of subscriptions plus at most `cap` entries per total.
   */
  async heraldWide(cap = heraldWideCountCap): Promise<DeliveryCounts> {
    const each = (condition: string) => this.sql.joinEach('deliveries', 'd', condition, '$1');
    const [row] = await this.sql.all<{ backlog: number | string; dead: number | string }>(
      `SELECT
         (SELECT count(*) FROM (SELECT 1 FROM subscriptions s ${each(waiting)} LIMIT $1) AS w) AS backlog,
         (SELECT count(*) FROM (SELECT 1 FROM subscriptions s ${each(deadOf)} LIMIT $1) AS x) AS dead`,
      [cap + 1],
    );
    return bounded(Number(row?.backlog ?? 0), Number(row?.dead ?? 0), cap);
  }
}

function bounded(backlog: number, deadLetters: number, cap: number): DeliveryCounts {
  return { backlog: Math.min(backlog, cap), deadLetters: Math.min(deadLetters, cap), capped: backlog > cap || deadLetters > cap };
}
