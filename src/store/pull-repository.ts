import { nextSubscriptionStatus } from '../domain/subscription-status.js';
import type { SqlExecutor } from './sql-executor.js';
import { status, subscriptionChangeAllowed, subscriptionStatusAfter } from './status-sql.js';

/**
 * Where a read without a checkPoint leaves an active subscription it finds unread too long: both changes at
 * once, inactive (its checkpoints void) and read again.
 */
const readAfterUnreadTooLong = (() => {
  const inactive = nextSubscriptionStatus('active', 'unreadTooLong', 'pull');
  const read = inactive && nextSubscriptionStatus(inactive, 'readAgain', 'pull');
  if (!read) throw new Error('a pull subscription unread too long must be readable again');
  return read;
})();

/** A pull subscription's position after a read: what is acknowledged, in which epoch, and its status. */
export interface QueuePosition {
  readonly acknowledged: number;
  readonly epoch: number;
  readonly status: string;
}

/** A read of a pull subscription's queue, as `recordRead` judges it. */
export interface PullRead {
  readonly subscriptionId: number;
  /** The checkpoint the reader passed: the epoch it was given in, and the queue position it acknowledges. */
  readonly checkpoint: { readonly upTo: number; readonly epoch: number } | undefined;
  readonly now: number;
  /** A subscription last read (or created) before this is inactive. */
  readonly inactiveBefore: number;
  /** The status the reader found before the read; other processes hear of a change from it. */
  readonly seenStatus: string;
}

/** A read as recorded: the position after it, and whether it counted (its checkpoint was still valid). */
export interface RecordedRead extends QueuePosition {
  readonly counted: boolean;
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
    private readonly changed: (subscriptionIds?: readonly number[]) => Promise<void>,
  ) {}

  /**
   * Records a read of a pull subscription, judging its inactivity at the same moment, in one statement, so
   * that concurrent readers (on any process) agree: a subscription unread since `inactiveBefore` becomes
   * inactive now, as the sweep would have made it, and its checkpoint epoch moves on.
   *
   * With a checkpoint, the read counts only if the subscription is not inactive (nor just became so) and the
   * checkpoint is of its current epoch; then everything up to `checkpoint.upTo` is acknowledged (never moving
   * backwards, so a repeated or older checkpoint is harmless) and the read time recorded. Otherwise nothing
   * but the judgement changes. Without a checkpoint, the read always counts: an inactive subscription (or one
   * found inactive now) becomes active again, in a new epoch.
   * @returns the position after the read, and whether it counted; `undefined` when there is no such subscription
   */
  async recordRead(read: PullRead): Promise<RecordedRead | undefined> {
    const { subscriptionId, checkpoint, now, inactiveBefore } = read;
    // $2 is the checkpoint's epoch (NULL without one), $3 what it acknowledges, $4 the inactivity cutoff.
    const unreadTooLong = `(${subscriptionChangeAllowed('unreadTooLong')} AND COALESCE(last_read_at, created_at) < CAST($4 AS bigint))`;
    const counts = `(CAST($2 AS integer) IS NULL OR (status <> ${status('inactive')} AND NOT ${unreadTooLong} AND checkpoint_epoch = CAST($2 AS integer)))`;
    const [row] = await this.sql.all<QueuePosition>(
      `UPDATE subscriptions SET
         status = CASE
           WHEN CAST($2 AS integer) IS NULL AND ${unreadTooLong} THEN ${status(readAfterUnreadTooLong)}
           WHEN ${unreadTooLong} THEN ${subscriptionStatusAfter('unreadTooLong')}
           WHEN CAST($2 AS integer) IS NULL THEN ${subscriptionStatusAfter('readAgain')}
           ELSE status END,
         checkpoint_epoch = CASE WHEN ${unreadTooLong} THEN checkpoint_epoch + 1 ELSE checkpoint_epoch END,
         acknowledged_delivery_id = CASE
           WHEN ${counts} AND acknowledged_delivery_id < CAST($3 AS bigint) THEN CAST($3 AS bigint)
           ELSE acknowledged_delivery_id END,
         last_read_at = CASE WHEN ${counts} THEN CAST($5 AS bigint) ELSE last_read_at END
       WHERE id = $1
       RETURNING acknowledged_delivery_id AS acknowledged, checkpoint_epoch AS epoch, status`,
      [subscriptionId, checkpoint?.epoch ?? null, checkpoint?.upTo ?? 0, inactiveBefore, now],
    );
    if (!row) return undefined;
    // Exactly the statement's condition, read from what it left: a read that counted changed neither the
    // status nor the epoch, and one that did not count left the subscription inactive or in another epoch.
    const counted = checkpoint === undefined || (row.status !== 'inactive' && Number(row.epoch) === checkpoint.epoch);
    if (row.status !== read.seenStatus) await this.changed([subscriptionId]);
    return { ...row, counted };
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

  /**
   * Marks pull subscriptions unread since `cutoff` inactive and moves their checkpoint epoch on, so their old
   * checkpoints are out of range. Their queues keep filling.
   * @returns how many became inactive
   */
  async markInactive(cutoff: number): Promise<number> {
    const rows = await this.sql.all(
      `UPDATE subscriptions SET status = ${subscriptionStatusAfter('unreadTooLong')}, checkpoint_epoch = checkpoint_epoch + 1
       WHERE ${subscriptionChangeAllowed('unreadTooLong')} AND COALESCE(last_read_at, created_at) < $1
       RETURNING id`,
      [cutoff],
    );
    if (rows.length > 0) await this.changed(rows.map((row) => Number((row as { id: number }).id)));
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
