import { type ReplayLimits, type ReplayStatus, inProgressReplayStatuses } from '../domain/replay.js';
import { waitingDeliveryStatuses } from '../domain/delivery-status.js';
import { receivingStatuses } from '../domain/subscription-status.js';
import type { AtomicStatement, SqlExecutor } from './sql-executor.js';
import { status, statusIn } from './status-sql.js';

/** A replay as stored (docs/replay.md). Positions: the range is after `afterSeq` through `throughSeq`. */
export interface ReplayRecord {
  readonly id: number;
  readonly subscriptionId: number;
  readonly consumer: string;
  readonly status: ReplayStatus;
  /** What was asked for: a time (epoch ms) or an `after` cursor as given, and an end time. */
  readonly fromTime: number | null;
  readonly afterCursor: string | null;
  readonly untilTime: number | null;
  readonly afterSeq: number;
  /** While `waiting`, where the log stood at creation: the end moves to the head when the replay starts. */
  readonly throughSeq: number;
  /** Enqueued through here. */
  readonly position: number;
  /** Events its range selected when the range was fixed. */
  readonly events: number;
  /** Deliveries written so far. */
  readonly enqueued: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly finishedAt: number | null;
}

export type NewReplay = Omit<ReplayRecord, 'id' | 'position' | 'enqueued' | 'createdAt' | 'updatedAt' | 'finishedAt'> & {
  readonly now: number;
};

const columns = `id, subscription_id AS "subscriptionId", consumer, status, from_time AS "fromTime",
  after_cursor AS "afterCursor", until_time AS "untilTime", after_seq AS "afterSeq", through_seq AS "throughSeq",
  position, events, enqueued, created_at AS "createdAt", updated_at AS "updatedAt", finished_at AS "finishedAt"`;

const inProgress = statusIn('status', inProgressReplayStatuses);

/** bigint columns come back as numbers on PostgreSQL (its type parser); counts may come back as text. */
function record(row: ReplayRecord): ReplayRecord {
  return { ...row, events: Number(row.events), enqueued: Number(row.enqueued) };
}

/**
 * Replays, in SQL both engines share. A replay is advanced by one process at a time: the loop leases it for a
 * piece, and the piece is written only if the replay still stands where that process read it (its position,
 * status and lease), in the same transaction as its deliveries. So a piece is enqueued once, whichever
 * process wrote it and whatever crashed in between.
 */
export class ReplayRepository {
  constructor(
    private readonly sql: SqlExecutor,
    /** Announces new deliveries: dispatchers and pull readers wake. */
    private readonly due: () => Promise<void>,
  ) {}

  /** How many replays in progress the subscription and the consumer have. */
  async inProgress(subscriptionId: number, consumer: string): Promise<{ subscription: number; consumer: number }> {
    const [row] = await this.sql.all<{ subscription: number; consumer: number }>(
      `SELECT (SELECT count(*) FROM replays WHERE subscription_id = $1 AND ${inProgress}) AS subscription,
              (SELECT count(*) FROM replays WHERE consumer = $2 AND ${inProgress}) AS consumer`,
      [subscriptionId, consumer],
    );
    return { subscription: Number(row?.subscription ?? 0), consumer: Number(row?.consumer ?? 0) };
  }

  /** How many replays are in progress in the store, by status (`waiting`, `running`): a metric. */
  async countInProgress(): Promise<{ status: ReplayStatus; count: number }[]> {
    const rows = await this.sql.all<{ status: ReplayStatus; count: number }>(
      `SELECT status, count(*) AS count FROM replays WHERE ${inProgress} GROUP BY status`,
      [],
    );
    return rows.map((row) => ({ status: row.status, count: Number(row.count) }));
  }

  /**
   * Creates a replay, unless it would be in progress and its subscription or consumer has as many in progress
   * as `limits` allow: counted in the same write, which both engines serialize (SqlExecutor.atomically), so
   * concurrent requests cannot all pass. @returns the replay, or `undefined` when a limit stood in the way
   */
  async create(replay: NewReplay, limits: Pick<ReplayLimits, 'perSubscription' | 'perConsumer'>): Promise<ReplayRecord | undefined> {
    // Cast: PostgreSQL cannot infer a parameter's type from a SELECT list.
    const [rows] =
      (await this.sql.atomically([
        {
          sql: `INSERT INTO replays (subscription_id, consumer, status, from_time, after_cursor, until_time, after_seq,
                  through_seq, position, events, created_at, updated_at, finished_at)
                SELECT CAST($1 AS bigint), CAST($2 AS text), CAST($3 AS text), CAST($4 AS bigint), CAST($5 AS text),
                  CAST($6 AS bigint), CAST($7 AS bigint), CAST($8 AS bigint), CAST($7 AS bigint), CAST($9 AS bigint),
                  CAST($10 AS bigint), CAST($10 AS bigint), CASE WHEN $3 = ${status('completed')} THEN CAST($10 AS bigint) END
                WHERE $3 = ${status('completed')} OR (
                  (SELECT count(*) FROM replays WHERE subscription_id = $1 AND ${inProgress}) < $11
                  AND (SELECT count(*) FROM replays WHERE consumer = $2 AND ${inProgress}) < $12)
                RETURNING ${columns}`,
          parameters: [
            replay.subscriptionId,
            replay.consumer,
            replay.status,
            replay.fromTime,
            replay.afterCursor,
            replay.untilTime,
            replay.afterSeq,
            replay.throughSeq,
            replay.events,
            replay.now,
            limits.perSubscription,
            limits.perConsumer,
          ],
          guard: true,
        },
      ])) ?? [];
    const row = rows?.[0] as ReplayRecord | undefined;
    return row && record(row);
  }

  async get(subscriptionId: number, id: number): Promise<ReplayRecord | undefined> {
    const [row] = await this.sql.all<ReplayRecord>(`SELECT ${columns} FROM replays WHERE id = $1 AND subscription_id = $2`, [id, subscriptionId]);
    return row && record(row);
  }

  /** A subscription's replays, newest first. */
  async list(subscriptionId: number, limit: number): Promise<ReplayRecord[]> {
    const rows = await this.sql.all<ReplayRecord>(
      `SELECT ${columns} FROM replays WHERE subscription_id = $1 ORDER BY id DESC LIMIT $2`,
      [subscriptionId, limit],
    );
    return rows.map(record);
  }

  /**
   * Stops a replay in progress: nothing more of it is enqueued (a piece being written meanwhile either commits
   * before this, or finds the replay cancelled and writes nothing). @returns the replay as it now stands
   */
  async cancel(subscriptionId: number, id: number, now: number): Promise<ReplayRecord | undefined> {
    const [row] = await this.sql.all<ReplayRecord>(
      `UPDATE replays SET status = ${status('cancelled')}, finished_at = $3, updated_at = $3, lease_owner = NULL, lease_until = NULL
       WHERE id = $1 AND subscription_id = $2 AND ${inProgress} RETURNING ${columns}`,
      [id, subscriptionId, now],
    );
    return row ? record(row) : this.get(subscriptionId, id);
  }

  /**
   * Leases up to `limit` replays in progress for one piece each, the one advanced longest ago first, skipping
   * those another process holds. A lease a crashed process left is taken over once it lapses.
   */
  async lease(owner: string, now: number, leaseUntil: number, limit: number): Promise<ReplayRecord[]> {
    const rows = await this.sql.all<ReplayRecord>(
      `UPDATE replays SET lease_owner = $1, lease_until = $3
       WHERE id IN (
         SELECT id FROM replays WHERE ${inProgress} AND (lease_until IS NULL OR lease_until <= $2)
         ORDER BY updated_at LIMIT $4 ${this.sql.lockForLease('replays')}
       )
       RETURNING ${columns}`,
      [owner, now, leaseUntil, limit],
    );
    return rows.map(record).sort((a, b) => a.updatedAt - b.updatedAt);
  }

  /** Gives a lease back without progress (the replay waits), behind the others: `updated_at` moves on. */
  async putBack(id: number, owner: string, now: number): Promise<void> {
    await this.sql.all(
      'UPDATE replays SET lease_owner = NULL, lease_until = NULL, updated_at = $3 WHERE id = $1 AND lease_owner = $2 RETURNING id',
      [id, owner, now],
    );
  }

  /** Gives leases back untouched (a process stopping): another process may take them at once. */
  async release(ids: readonly number[], owner: string): Promise<void> {
    if (ids.length === 0) return;
    await this.sql.all(
      `UPDATE replays SET lease_owner = NULL, lease_until = NULL WHERE ${this.sql.inList('id', 1)} AND lease_owner = $2 RETURNING id`,
      [ids, owner],
    );
  }

  /**
   * How many deliveries of the subscription wait (pending or retrying; for a pull subscription, queued and not
   * acknowledged), counting no further than `atMost`: a replay holds back while its subscription is that far
   * behind. One range of the (subscription, status, id) index. On an ordered subscription (`ordered`), a delivery
   * waiting behind its key's head does not count: a key that fails or is blocked holds back its own events, not
   * the rest of the replay (docs/ordering.md); the range then steps over those rows.
   */
  async backlog(subscriptionId: number, acknowledged: number, atMost: number, ordered = false): Promise<number> {
    const [row] = await this.sql.all<{ n: number }>(
      `SELECT count(*) AS n FROM (
         SELECT 1 FROM deliveries WHERE subscription_id = $1 AND ${statusIn('status', waitingDeliveryStatuses)} AND id > $2
           ${ordered ? 'AND (ordering_key IS NULL OR next_attempt_at IS NOT NULL)' : ''}
         LIMIT $3
       ) AS waiting`,
      [subscriptionId, acknowledged, atMost],
    );
    return Number(row?.n ?? 0);
  }

  /**
   * Starts a `waiting` backfill whose subscription now receives: its range ends at `head` and its count grows
   * by the events between its old end and there. @returns false when another process got there first
   */
  async start(replay: ReplayRecord, owner: string, head: number, moreEvents: number, now: number): Promise<boolean> {
    const rows = await this.sql.all(
      `UPDATE replays SET status = ${status('running')}, through_seq = $3, events = events + $4, updated_at = $5,
         lease_owner = NULL, lease_until = NULL
       WHERE id = $1 AND lease_owner = $2 AND status = ${status('waiting')} AND through_seq = $6 RETURNING id`,
      [replay.id, owner, Math.max(head, replay.throughSeq), moreEvents, now, replay.throughSeq],
    );
    return rows.length > 0;
  }

  /**
   * Writes one piece: a delivery of each event of `seqs` (still stored) to the replay's subscription, in log
   * order, and the replay's position moved on to `reached`, in one transaction. Nothing is written unless the
   * replay is still running, still leased to `owner` and still at the position the piece was read from, and its
   * subscription still receives events (as publishing writes deliveries only for those).
   *
   * An ordered subscription's deliveries are written as publishing writes them (docs/ordering.md): each carries
   * its event's key, and is due only if it is the first of its key in the piece and its key has nothing waiting
   * and no dead letter that blocks it; the others wait for their key's head to finish. On PostgreSQL that look
   * is taken under the lock publishing and settling take, so a head settling meanwhile is never missed.
   * @returns how many deliveries were written, or `undefined` when nothing was
   */
  async writePiece(replay: ReplayRecord, owner: string, seqs: readonly number[], reached: number, now: number): Promise<number | undefined> {
    const moved: AtomicStatement = {
      sql: `UPDATE replays SET position = $3,
              enqueued = enqueued + (SELECT count(*) FROM events WHERE ${this.sql.inList('seq', 4)}),
              status = CASE WHEN $3 >= through_seq THEN ${status('completed')} ELSE status END,
              finished_at = CASE WHEN $3 >= through_seq THEN CAST($5 AS bigint) END,
              updated_at = $5, lease_owner = NULL, lease_until = NULL
            WHERE id = $1 AND lease_owner = $2 AND position = $6 AND status = ${status('running')}
              AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.id = replays.subscription_id AND ${statusIn('s.status', receivingStatuses)})
            RETURNING id`,
      parameters: [replay.id, owner, reached, seqs, now, replay.position],
      guard: true,
    };
    // Only where the subscription is ordered (fixed at creation), as publishing takes it: a row per subscription
    // that orders, and the lock is taken for that row alone.
    const lock: AtomicStatement[] =
      this.sql.orderedKeysLock === undefined
        ? []
        : [
            {
              sql: `SELECT ${this.sql.orderedKeysLock} FROM subscriptions WHERE id = $1 AND ordering <> 'none' AND endpoint IS NOT NULL`,
              parameters: [replay.subscriptionId],
            },
          ];
    const written: AtomicStatement = {
      // Ids are drawn in log order: a pull subscription's queue is read in id order, and an ordered key's
      // deliveries go in id order. Pull rows are never due for the dispatcher (as publishing writes them).
      sql: `INSERT INTO deliveries (subscription_id, event_seq, status, next_attempt_at, created_at, replay_id, ordering_key)
            SELECT p.subscription_id, p.seq, ${status('pending')},
              CASE WHEN p.endpoint IS NULL OR p.held THEN NULL ELSE CAST($2 AS bigint) END, CAST($2 AS bigint), CAST($3 AS bigint),
              p.ordering_key
            FROM (
              SELECT k.*, k.ordering_key IS NOT NULL AND (
                  row_number() OVER (PARTITION BY k.ordering_key ORDER BY k.seq) > 1
                  OR EXISTS (SELECT 1 FROM deliveries w WHERE w.subscription_id = k.subscription_id
                    AND w.ordering_key = k.ordering_key AND ${statusIn('w.status', waitingDeliveryStatuses)})
                  OR (k.on_dead_letter = 'block' AND EXISTS (SELECT 1 FROM deliveries x WHERE x.subscription_id = k.subscription_id
                    AND x.ordering_key = k.ordering_key AND x.status = ${status('dead')}))
                ) AS held
              FROM (
                SELECT s.id AS subscription_id, e.seq, s.endpoint, s.on_dead_letter,
                  CASE WHEN s.ordering = 'none' OR s.endpoint IS NULL THEN NULL ELSE ${this.sql.orderingKeyOf('s.ordering', 'e')} END AS ordering_key
                FROM events e JOIN subscriptions s ON s.id = $4
                WHERE ${this.sql.inList('e.seq', 1)}
              ) AS k
            ) AS p
            ORDER BY p.seq
            RETURNING id`,
      parameters: [seqs, now, replay.id, replay.subscriptionId],
    };
    const results = await this.sql.atomically([moved, ...lock, written]);
    if (!results) return undefined;
    const count = results.at(-1)?.length ?? 0;
    if (count > 0) await this.due();
    return count;
  }

  /** Forgets up to `limit` replays that finished before `before`. @returns how many */
  async forgetFinished(before: number, limit: number): Promise<number> {
    const rows = await this.sql.all(
      `DELETE FROM replays WHERE id IN (SELECT id FROM replays WHERE finished_at < $1 ORDER BY finished_at LIMIT $2) RETURNING id`,
      [before, limit],
    );
    return rows.length;
  }
}
