import { finishedDeliveryStatuses } from '../domain/delivery-status.js';
import type { SqlExecutor } from './sql-executor.js';
import { statusIn } from './status-sql.js';

/**
 * Where the log and the deliveries stood at a time: every event with `seq < eventsBefore` and every delivery
 * with `id < deliveriesBefore` had committed by `at` (Herald's clock, epoch ms). Marks map time to
 * positions, so retention removes by position ranges and never needs an index on a timestamp.
 */
export interface RetentionMark {
  readonly at: number;
  readonly eventsBefore: number;
  readonly deliveriesBefore: number;
}

/** The next event position and delivery id to be handed out; every smaller one has committed. */
export interface LogPositions {
  readonly eventsBefore: number;
  readonly deliveriesBefore: number;
}

/** What retention does differently per engine. */
export interface RetentionEngine {
  /**
   * Where positions stand, read so that nothing below them is still uncommitted. PostgreSQL also keeps
   * partitions ahead, each covering `spanDays`, and moves both sequences into the range of the day `now`
   * falls in.
   */
  positions(now: number, spanDays: number): Promise<LogPositions>;
  /** Where the keys of removed events are remembered (PostgreSQL keeps them in `event_keys`). */
  readonly removedKeys: 'removed_event_keys' | 'event_keys';
  /**
   * Rows below these positions are removed one by one; above them, whole partitions are dropped instead
   * (PostgreSQL). SQLite removes everything row by row.
   */
  rowRemovalBounds(): Promise<LogPositions>;
  /** Drops the partitions wholly before `mark`, oldest first. @returns their names */
  dropPartitionsBefore(mark: RetentionMark, raiseRemovedThrough: (seq: number) => Promise<void>): Promise<string[]>;
}

const removedThroughKey = 'events_removed_through';
const sweptBeforeKey = 'finished_deliveries_swept_before';

/**
 * Retention's SQL, shared by both engines: time→position marks, batched removals from the oldest end, and
 * the low-water mark of what was removed, which tells a poll from before retention (410) from a cursor
 * Herald never knew (400). Each statement touches at most one batch of rows, so none holds locks for long.
 */
export class RetentionRepository {
  constructor(
    private readonly sql: SqlExecutor,
    private readonly engine: RetentionEngine,
  ) {}

  /**
   * Records where the log stands, unless a mark was taken within `spacingMs`. The time is read after the
   * positions, so the mark never claims a commit that had not happened by then. On PostgreSQL this also
   * keeps partitions of `spanDays` made ahead.
   */
  async mark(clock: () => number, spacingMs: number, spanDays: number): Promise<void> {
    const positions = await this.engine.positions(clock(), spanDays);
    const at = clock();
    const [newest] = await this.sql.all<{ at: number | null }>('SELECT max(at) AS at FROM retention_marks', []);
    if (newest?.at !== null && newest?.at !== undefined && newest.at > at - spacingMs) return;
    await this.sql.all(
      'INSERT INTO retention_marks (at, events_before, deliveries_before) VALUES ($1, $2, $3) ON CONFLICT (at) DO NOTHING RETURNING at',
      [at, positions.eventsBefore, positions.deliveriesBefore],
    );
  }

  /** The newest mark taken at or before `time`. */
  async markAt(time: number): Promise<RetentionMark | undefined> {
    const [row] = await this.sql.all<RetentionMark>(
      `SELECT at, events_before AS "eventsBefore", deliveries_before AS "deliveriesBefore" FROM retention_marks
       WHERE at <= $1 ORDER BY at DESC LIMIT 1`,
      [time],
    );
    return row;
  }

  /** Forgets marks no longer needed: those older than the newest one at or before `time`. */
  async forgetMarksBefore(time: number): Promise<void> {
    const mark = await this.markAt(time);
    if (mark) await this.sql.all('DELETE FROM retention_marks WHERE at < $1 RETURNING at', [mark.at]);
  }

  /** The highest position retention has removed (0: none); a cursor below it may have missed events. */
  async removedThrough(): Promise<number> {
    return this.state(removedThroughKey);
  }

  /** PostgreSQL: drops the partitions wholly before `mark`. @returns their names */
  dropPartitionsBefore(mark: RetentionMark): Promise<string[]> {
    return this.engine.dropPartitionsBefore(mark, (seq) => this.raise(removedThroughKey, seq));
  }

  /**
   * Removes up to `limit` of the deliveries before `mark` (every status: their events are leaving), oldest
   * first. They must all be gone before `removeEvents` starts on the same mark, so no delivery outlives its
   * event. @returns how many were removed
   */
  async removeDeliveries(mark: RetentionMark, limit: number): Promise<number> {
    const bound = Math.min(mark.deliveriesBefore, (await this.engine.rowRemovalBounds()).deliveriesBefore);
    const rows = await this.sql.all(
      'DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE id < $1 ORDER BY id LIMIT $2) RETURNING id',
      [bound, limit],
    );
    return rows.length;
  }

  /**
   * Removes up to `limit` of the deliveries replays wrote for events before `mark` (docs/replay.md). A replay
   * writes new deliveries of old events: they are newer than the mark's deliveries, so the removals by position
   * above never reach them before their events go. They must go first too. @returns how many were removed
   */
  async removeReplayedDeliveries(mark: RetentionMark, limit: number): Promise<number> {
    const rows = await this.sql.all(
      `DELETE FROM deliveries WHERE id IN (
         SELECT id FROM deliveries WHERE replay_id IS NOT NULL AND event_seq < $1 LIMIT $2
       ) RETURNING id`,
      [mark.eventsBefore, limit],
    );
    return rows.length;
  }

  /**
   * Removes up to `limit` of the events before `mark`, oldest first. The low-water mark is raised first, so a
   * poll never passes over a removed event without being told; the removed keys are remembered (SQLite
   * copies them; PostgreSQL keeps them in `event_keys`). @returns how many were removed
   */
  async removeEvents(mark: RetentionMark, limit: number): Promise<number> {
    const bound = Math.min(mark.eventsBefore, (await this.engine.rowRemovalBounds()).eventsBefore);
    const [batch] = await this.sql.all<{ last: number | null }>(
      'SELECT max(seq) AS last FROM (SELECT seq FROM events WHERE seq < $1 ORDER BY seq LIMIT $2) batch',
      [bound, limit],
    );
    const last = batch?.last;
    if (last === null || last === undefined) return 0;
    await this.raise(removedThroughKey, last);
    if (this.engine.removedKeys === 'removed_event_keys') {
      await this.sql.all(
        `INSERT INTO removed_event_keys (seq, source, id) SELECT seq, source, id FROM events WHERE seq <= $1
         ON CONFLICT (seq) DO NOTHING RETURNING seq`,
        [last],
      );
    }
    return (await this.sql.all('DELETE FROM events WHERE seq <= $1 RETURNING seq', [last])).length;
  }

  /**
   * Sweeps up to `limit` deliveries created before `deliveriesBefore`, removing the finished ones (delivered
   * or dead). Pending and retrying deliveries, and pull subscriptions' queued rows, are left to their event's
   * retention. The sweep remembers where it got to, so rows it left are not scanned again.
   * @returns how many rows were scanned (0: nothing left to sweep) and how many removed
   */
  async removeFinishedDeliveries(deliveriesBefore: number, limit: number): Promise<{ scanned: number; removed: number }> {
    const from = await this.state(sweptBeforeKey);
    const [batch] = await this.sql.all<{ last: number | null; scanned: number }>(
      `SELECT max(id) AS last, count(*) AS scanned FROM (SELECT id FROM deliveries WHERE id >= $1 AND id < $2 ORDER BY id LIMIT $3) batch`,
      [from, deliveriesBefore, limit],
    );
    const last = batch?.last;
    if (last === null || last === undefined) return { scanned: 0, removed: 0 };
    const removed = await this.sql.all(
      `DELETE FROM deliveries WHERE id >= $1 AND id <= $2 AND ${statusIn('status', finishedDeliveryStatuses)} RETURNING id`,
      [from, last],
    );
    await this.raise(sweptBeforeKey, last + 1);
    return { scanned: Number(batch?.scanned ?? 0), removed: removed.length };
  }

  /**
   * Forgets up to `limit` keys of removed events before `eventsBefore`: an `after` naming one is then
   * unknown (400) rather than removed (410). Keys of events still stored are never touched.
   * @returns how many were forgotten
   */
  async forgetRemovedKeys(eventsBefore: number, limit: number): Promise<number> {
    const bound = Math.min(eventsBefore, (await this.removedThrough()) + 1);
    const table = this.engine.removedKeys;
    const rows = await this.sql.all(
      `DELETE FROM ${table} WHERE seq IN (SELECT seq FROM ${table} WHERE seq < $1 ORDER BY seq LIMIT $2) RETURNING seq`,
      [bound, limit],
    );
    return rows.length;
  }

  /**
   * The position of a removed event with this id (and source, when given), while its key is remembered.
   * Without a source the earliest such event counts, as for events still stored.
   */
  async removedEventPosition(id: string, source?: string): Promise<number | undefined> {
    const table = this.engine.removedKeys;
    const removed = table === 'event_keys' ? ' AND NOT EXISTS (SELECT 1 FROM events e WHERE e.seq = k.seq)' : '';
    const [row] =
      source === undefined
        ? await this.sql.all<{ seq: number | null }>(`SELECT min(k.seq) AS seq FROM ${table} k WHERE k.id = $1${removed}`, [id])
        : await this.sql.all<{ seq: number | null }>(
            `SELECT min(k.seq) AS seq FROM ${table} k WHERE k.source = $2 AND k.id = $1${removed}`,
            [id, source],
          );
    return row?.seq ?? undefined;
  }

  private async state(name: string): Promise<number> {
    const [row] = await this.sql.all<{ value: number }>('SELECT value FROM retention_state WHERE name = $1', [name]);
    return row === undefined ? 0 : Number(row.value);
  }

  /** Raises a state value, never lowering it (two processes may sweep at once). */
  private async raise(name: string, value: number): Promise<void> {
    await this.sql.all(
      `INSERT INTO retention_state (name, value) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET value = CASE WHEN retention_state.value < excluded.value THEN excluded.value ELSE retention_state.value END
       RETURNING value`,
      [name, value],
    );
  }
}
