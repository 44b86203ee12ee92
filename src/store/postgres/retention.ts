import type pg from 'pg';
import { waitingDeliveryStatuses } from '../../domain/delivery-status.js';
import type { LogPositions, RetentionEngine, RetentionMark } from '../retention-repository.js';
import { statusIn } from '../status-sql.js';
import { type CommitBound, CommitClock, commitWithin } from './bounded-commit.js';

/** Positions of day D (days since 1970-01-01) start at D * positionsPerDay (004_retention.sql). */
export const positionsPerDay = 10_000_000_000;
const dayMs = 86_400_000;

/** Partitions ahead of today the loop keeps, in days, so publishing never waits for one to be made. */
const aheadDays = 2;

/** Held while partitions are made or dropped: one process does it at a time, the others skip the round. */
const partitionLockKey = 4_841_003;

export interface PartitionOptions {
  /** Serializes appends; the sequences move only while it is held, so commit order holds. */
  readonly appendLockKey: number;
  /** HERALD_COMMIT_TIMEOUT: the writes here, background ones, fail as unavailable past it like any other. */
  readonly commitBound: CommitBound;
}

interface PartitionRow {
  readonly fromDay: number;
  readonly toDay: number;
}

/**
 * PostgreSQL's retention: `events`, `deliveries` and `delivery_attempts` are partitioned by position in ranges that stand for
 * days (see 004_retention.sql). This keeps partitions made ahead, moves both sequences into the current
 * day's range, and removes old data by detaching and dropping partitions once wholly older than retention.
 */
export class PostgresPartitions implements RetentionEngine {
  readonly removedKeys = 'event_keys';

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: PartitionOptions,
  ) {}

  /** The partitions Herald made, oldest first. */
  async list(): Promise<PartitionRow[]> {
    const { rows } = await this.pool.query<PartitionRow>(
      'SELECT from_day AS "fromDay", to_day AS "toDay" FROM herald_partitions ORDER BY from_day',
    );
    return rows;
  }

  async positions(now: number, spanDays: number): Promise<LogPositions> {
    const today = Math.floor(now / dayMs);
    // Waits for another process making them, so the sequences below move into a partition that exists.
    await this.withPartitionLock(() => this.makeAhead(today, spanDays), 'wait');
    const clock = new CommitClock(await this.pool.connect(), this.options.commitBound);
    let failed = false;
    try {
      await clock.query('BEGIN');
      // No append holds numbers it has not committed while this lock is held: every smaller position has
      // committed, and a sequence moved now cannot put a later commit before an earlier one.
      await clock.query({ text: 'SELECT pg_advisory_xact_lock($1)', values: [this.options.appendLockKey] });
      const rows = await clock.query<{ fromDay: number }>({
        text: 'SELECT from_day AS "fromDay" FROM herald_partitions WHERE from_day > 0 AND from_day <= $1 AND to_day > $1',
        values: [today],
      });
      const current = rows[0];
      if (current) {
        const start = current.fromDay * positionsPerDay;
        for (const sequence of ['events_seq_seq', 'deliveries_id_seq']) {
          await clock.query({ text: `SELECT setval('${sequence}', $1, false) FROM ${sequence} WHERE ${nextValue} < $1`, values: [start] });
        }
      }
      const positions = await clock.query<LogPositions>(
        `SELECT (SELECT ${nextValue} FROM events_seq_seq) AS "eventsBefore",
                (SELECT ${nextValue} FROM deliveries_id_seq) AS "deliveriesBefore"`,
      );
      await clock.query('COMMIT');
      return positions[0] as LogPositions;
    } catch (error) {
      failed = true;
      if (!clock.ranOut) await clock.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      clock.release(failed);
    }
  }

  /** Only the legacy partition (the tables from before partitioning) loses rows one by one. */
  async rowRemovalBounds(): Promise<LogPositions> {
    const { rows } = await this.pool.query<{ toDay: number }>('SELECT to_day AS "toDay" FROM herald_partitions WHERE from_day = 0');
    const bound = (rows[0]?.toDay ?? 0) * positionsPerDay;
    return { eventsBefore: bound, deliveriesBefore: bound };
  }

  async dropPartitionsBefore(mark: RetentionMark, raiseRemovedThrough: (seq: number) => Promise<void>): Promise<string[]> {
    const dropped: string[] = [];
    await this.withPartitionLock(async () => {
      for (const partition of await this.list()) {
        const end = partition.toDay * positionsPerDay;
        if (end > mark.eventsBefore || end > mark.deliveriesBefore) break;
        const suffix = partitionSuffix(partition.fromDay);
        const { rows } = await this.pool.query<{ last: number | null }>(`SELECT max(seq) AS last FROM events_${suffix}`);
        // Raised before the rows go, so a poll never passes over them without being told.
        const last = rows[0]?.last;
        if (last !== null && last !== undefined) await raiseRemovedThrough(last);
        // Deliveries first: none may outlive its event; and their attempts before them (014_delivery_attempts.sql).
        await this.moveOrderedKeysOn(suffix);
        await this.detachAndDrop('delivery_attempts', suffix);
        await this.detachAndDrop('deliveries', suffix);
        await this.detachAndDrop('events', suffix);
        await this.write({ text: 'DELETE FROM herald_partitions WHERE from_day = $1', values: [partition.fromDay] });
        dropped.push(`events_${suffix}`, `deliveries_${suffix}`, `delivery_attempts_${suffix}`);
      }
    });
    return dropped;
  }

  /**
   * An ordered key whose head (or blocking dead letter) is in a partition about to go would wait for it forever:
   * dropping a partition fires no row triggers. Those rows are deleted one by one first, which fires the
   * triggers that make each key's next delivery its head (013_ordered_delivery.sql). Few: only waiting and dead
   * deliveries of ordered subscriptions, older than the retention period.
   */
  private async moveOrderedKeysOn(suffix: string): Promise<void> {
    const name = `deliveries_${suffix}`;
    const { rows } = await this.pool.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [name]);
    if (!rows[0]?.found) return;
    await this.write(
      `DELETE FROM ${name} WHERE ordering_key IS NOT NULL AND ${statusIn('status', [...waitingDeliveryStatuses, 'dead'])}`,
    );
  }

  /** Makes partitions until the one holding `today + aheadDays` exists. */
  private async makeAhead(today: number, spanDays: number): Promise<void> {
    const partitions = await this.list();
    let from = Math.max(partitions.at(-1)?.toDay ?? today, today);
    while (from <= today + aheadDays) {
      const to = from + Math.max(1, Math.round(spanDays));
      await this.make(from, to);
      from = to;
    }
  }

  /**
   * Made standalone, then attached: ATTACH PARTITION takes a lock that lets publishing and reading go on,
   * where CREATE TABLE … PARTITION OF would block them for a moment.
   */
  private async make(fromDay: number, toDay: number): Promise<void> {
    const clock = new CommitClock(await this.pool.connect(), this.options.commitBound);
    let failed = false;
    try {
      await clock.query('BEGIN');
      // Attempts after deliveries: their partitions share the deliveries' bounds (014_delivery_attempts.sql).
      for (const table of ['events', 'deliveries', 'delivery_attempts']) {
        const name = `${table}_${partitionSuffix(fromDay)}`;
        await clock.query(`CREATE TABLE ${name} (LIKE ${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
        await clock.query(
          `ALTER TABLE ${table} ATTACH PARTITION ${name} FOR VALUES FROM (${fromDay * positionsPerDay}) TO (${toDay * positionsPerDay})`,
        );
      }
      await clock.query({ text: 'INSERT INTO herald_partitions (from_day, to_day) VALUES ($1, $2)', values: [fromDay, toDay] });
      await clock.query('COMMIT');
    } catch (error) {
      failed = true;
      if (!clock.ranOut) await clock.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      clock.release(failed);
    }
  }

  /**
   * DETACH … CONCURRENTLY waits for queries using the partition instead of locking the whole table. If it
   * was interrupted (a crash, a timeout) the partition is left pending, and the next round finalizes it.
   */
  private async detachAndDrop(table: 'events' | 'deliveries' | 'delivery_attempts', suffix: string): Promise<void> {
    const name = `${table}_${suffix}`;
    const { rows } = await this.pool.query<{ pending: boolean }>(
      'SELECT inhdetachpending AS pending FROM pg_inherits WHERE inhrelid = to_regclass($1)',
      [name],
    );
    const attached = rows[0];
    if (attached) {
      // Cut short by the bound, a detach is left pending and finalized next round, as after a crash.
      await this.write(`ALTER TABLE ${table} DETACH PARTITION ${name} ${attached.pending ? 'FINALIZE' : 'CONCURRENTLY'}`);
    }
    await this.write(`DROP TABLE IF EXISTS ${name}`);
  }

  /** A statement that writes, its own transaction, its commit bounded (bounded-commit.ts). */
  private async write(statement: pg.QueryConfig | string): Promise<void> {
    await commitWithin(this.pool, statement, this.options.commitBound);
  }

  /**
   * Runs `work` while no other process makes or drops partitions: after waiting for them, or (`skip`) not at
   * all this round if one is at it.
   */
  private async withPartitionLock(work: () => Promise<void>, busy: 'wait' | 'skip' = 'skip'): Promise<void> {
    const client = await this.pool.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>(
        busy === 'wait' ? 'SELECT pg_advisory_lock($1), true AS locked' : 'SELECT pg_try_advisory_lock($1) AS locked',
        [partitionLockKey],
      );
      if (!rows[0]?.locked) return;
      try {
        await work();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [partitionLockKey]);
      }
    } finally {
      client.release();
    }
  }
}

/** The next value a sequence hands out, read from the sequence relation itself. */
const nextValue = 'CASE WHEN is_called THEN last_value + 1 ELSE last_value END';

/** `legacy` for the tables from before partitioning, else `p<first day>`. */
function partitionSuffix(fromDay: number): string {
  return fromDay === 0 ? 'legacy' : `p${fromDay}`;
}
