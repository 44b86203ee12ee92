import type { SqlExecutor } from './sql-executor.js';

/** A pull subscription's position after a read: what is acknowledged, in which epoch, and its status. */
export interface QueuePosition {
  readonly acknowledged: number;
  readonly epoch: number;
  readonly status: string;
}

/** One queued event: its delivery id (the queue position) and the event as stored. */
export interface QueuedEvent {
  readonly id: number;
  /** The event's position in the log. */
  readonly seq: number;
  readonly payload: string;
}

/**
 * Pull subscriptions' queues, in SQL both engines share. The queue is the subscription's deliveries after its
 * acknowledged position; acknowledging moves the position, and acknowledged rows are removed later in small
 * batches, so a read or an acknowledgement costs the same however long the history.
 */
export class PullRepository {
  constructor(
    private readonly sql: SqlExecutor,
    private readonly changed: () => Promise<void>,
  ) {}

  /**
   * Acknowledges everything up to `upTo` (never moving backwards, so a repeated or older checkpoint is
   * harmless) and records the read, in one statement.
   */
  async acknowledge(subscriptionId: number, upTo: number, now: number): Promise<QueuePosition | undefined> {
    const [row] = await this.sql.all<QueuePosition>(
      `UPDATE subscriptions SET
         acknowledged_delivery_id = CASE WHEN acknowledged_delivery_id < $2 THEN $2 ELSE acknowledged_delivery_id END,
         last_read_at = $3
       WHERE id = $1
       RETURNING acknowledged_delivery_id AS acknowledged, checkpoint_epoch AS epoch, status`,
      [subscriptionId, upTo, now],
    );
    return row;
  }

  /**
   * The next page of the queue after `afterDeliveryId`, in commit order. The payload is fetched by a
   * correlated lookup per row of the page, so the plan is an index range scan and one primary-key probe per
   * event whatever the planner's statistics say (a join was planned as a scan of the whole log after a bulk
   * load, before PostgreSQL had analyzed the tables).
   */
  read(subscriptionId: number, afterDeliveryId: number, limit: number): Promise<QueuedEvent[]> {
    return this.sql.all<QueuedEvent>(
      `SELECT d.id, d.event_seq AS seq, (SELECT ${this.sql.payloadOf('e')} FROM events e WHERE e.seq = d.event_seq) AS payload
       FROM deliveries d
       WHERE d.subscription_id = $1 AND d.id > $2
       ORDER BY d.id LIMIT $3`,
      [subscriptionId, afterDeliveryId, limit],
    );
  }

  /** An inactive subscription read without a checkpoint becomes active again. */
  async reactivate(subscriptionId: number, now: number): Promise<void> {
    const rows = await this.sql.all(
      `UPDATE subscriptions SET status = 'active', last_read_at = $2 WHERE id = $1 AND status = 'inactive' RETURNING id`,
      [subscriptionId, now],
    );
    if (rows.length > 0) await this.changed();
  }

  /**
   * Marks pull subscriptions unread since `cutoff` inactive and moves their checkpoint epoch on, so their old
   * checkpoints are out of range. Their queues keep filling.
   * @returns how many became inactive
   */
  async markInactive(cutoff: number): Promise<number> {
    const rows = await this.sql.all(
      `UPDATE subscriptions SET status = 'inactive', checkpoint_epoch = checkpoint_epoch + 1
       WHERE endpoint IS NULL AND status = 'active' AND COALESCE(last_read_at, created_at) < $1
       RETURNING id`,
      [cutoff],
    );
    if (rows.length > 0) await this.changed();
    return rows.length;
  }

  /** Deletes up to `limit` acknowledged queue rows. @returns how many were deleted */
  async removeAcknowledged(limit: number): Promise<number> {
    const rows = await this.sql.all(
      `DELETE FROM deliveries WHERE id IN (
         SELECT d.id FROM subscriptions s JOIN deliveries d ON d.subscription_id = s.id
         WHERE s.endpoint IS NULL AND d.id <= s.acknowledged_delivery_id
         LIMIT $1
       ) RETURNING id`,
      [limit],
    );
    return rows.length;
  }

  /** A key Herald keeps in the database: the first process to ask stores its candidate; all share it. */
  async key(name: string, candidate: string): Promise<string> {
    await this.sql.all('INSERT INTO herald_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING name', [
      name,
      candidate,
    ]);
    const [row] = await this.sql.all<{ value: string }>('SELECT value FROM herald_keys WHERE name = $1', [name]);
    if (!row) throw new Error(`key ${name} vanished`);
    return row.value;
  }
}
