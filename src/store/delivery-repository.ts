import type { AttemptOutcome, DeliveryRecord, DeliveryStatus, DeliveryTask } from './records.js';
import type { SqlExecutor } from './sql-executor.js';

/**
 * Deliveries, in SQL both engines share. Rows are written by the publish transaction (see the engines'
 * `appendEvents`); here they are leased, settled, listed and redriven.
 */
export class DeliveryRepository {
  constructor(
    private readonly sql: SqlExecutor,
    private readonly due: () => Promise<void>,
  ) {}

  /**
   * Leases due deliveries of active push subscriptions, oldest due first, skipping rows another process holds
   * and the subscriptions whose endpoints are busy here. A lease that expires (its holder died) is taken over.
   */
  async leaseDue(
    owner: string,
    now: number,
    leaseUntil: number,
    limit: number,
    busySubscriptions: readonly number[],
  ): Promise<DeliveryTask[]> {
    const leased = await this.sql.all<{ id: number; subscriptionId: number; eventSeq: number; attempts: number }>(
      `UPDATE deliveries SET lease_owner = $1, lease_until = $3
       WHERE id IN (
         SELECT d.id FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
         WHERE d.next_attempt_at <= $2 AND (d.lease_until IS NULL OR d.lease_until <= $2)
           AND s.status = 'active' AND s.endpoint IS NOT NULL AND NOT (${this.sql.inList('d.subscription_id', 5)})
         ORDER BY d.next_attempt_at LIMIT $4 ${this.sql.lockForLease('d')}
       )
       RETURNING id, subscription_id AS "subscriptionId", event_seq AS "eventSeq", attempts`,
      [owner, now, leaseUntil, limit, busySubscriptions],
    );
    if (leased.length === 0) return [];
    const payloads = await this.sql.all<{ seq: number; payload: string }>(
      `SELECT seq, ${this.sql.payloadColumn} FROM events WHERE ${this.sql.inList('seq', 1)}`,
      [leased.map((d) => d.eventSeq)],
    );
    const bySeq = new Map(payloads.map((row) => [row.seq, row.payload]));
    return leased
      .sort((a, b) => a.id - b.id)
      .flatMap((d) => {
        const payload = bySeq.get(d.eventSeq);
        return payload === undefined ? [] : [{ id: d.id, subscriptionId: d.subscriptionId, attempts: d.attempts, payload }];
      });
  }

  /**
   * Records an attempt's outcome. Only the lease holder may: a process whose lease expired while it waited on
   * a slow receiver must not overwrite the outcome of the process that took over.
   */
  async settle(id: number, owner: string, outcome: AttemptOutcome, now: number): Promise<boolean> {
    const common = 'attempts = attempts + 1, lease_owner = NULL, lease_until = NULL';
    const rows =
      outcome.kind === 'delivered'
        ? await this.sql.all(
            `UPDATE deliveries SET status = 'delivered', ${common}, last_status_code = $3, last_error = NULL,
               delivered_at = $4, next_attempt_at = NULL
             WHERE id = $1 AND lease_owner = $2 RETURNING id`,
            [id, owner, outcome.statusCode, now],
          )
        : await this.sql.all(
            `UPDATE deliveries SET status = $3, ${common}, last_status_code = $4, last_error = $5, next_attempt_at = $6
             WHERE id = $1 AND lease_owner = $2 RETURNING id`,
            [
              id,
              owner,
              outcome.kind === 'retry' ? 'failed' : 'dead',
              outcome.statusCode,
              outcome.error,
              outcome.kind === 'retry' ? outcome.nextAttemptAt : null,
            ],
          );
    return rows.length > 0;
  }

  /** Gives leases back unused, so the deliveries are due again at once, for any process. */
  async release(ids: readonly number[], owner: string): Promise<void> {
    if (ids.length === 0) return;
    await this.sql.all(
      `UPDATE deliveries SET lease_owner = NULL, lease_until = NULL
       WHERE ${this.sql.inList('id', 1)} AND lease_owner = $2 RETURNING id`,
      [ids, owner],
    );
  }

  /** A subscription's deliveries, oldest first, optionally of one status. */
  list(subscriptionId: number, status: DeliveryStatus | undefined, afterId: number, limit: number): Promise<DeliveryRecord[]> {
    return this.sql.all<DeliveryRecord>(
      `SELECT d.id, e.id AS "eventId", d.status, d.attempts, d.last_status_code AS "lastStatusCode",
         d.last_error AS "lastError", d.next_attempt_at AS "nextAttemptAt", d.delivered_at AS "deliveredAt",
         d.created_at AS "createdAt"
       FROM deliveries d JOIN events e ON e.seq = d.event_seq
       WHERE d.subscription_id = $1 AND d.id > $2 AND ($3 = '' OR d.status = $3)
       ORDER BY d.id LIMIT $4`,
      [subscriptionId, afterId, status ?? '', limit],
    );
  }

  /** Puts every dead delivery of a subscription back in the queue, with a fresh ladder. */
  async redrive(subscriptionId: number, now: number): Promise<number> {
    const rows = await this.sql.all(
      `UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = $2, lease_owner = NULL, lease_until = NULL
       WHERE subscription_id = $1 AND status = 'dead' RETURNING id`,
      [subscriptionId, now],
    );
    if (rows.length > 0) await this.due();
    return rows.length;
  }
}
