import type pg from 'pg';

/** How many new rows of a kind make this process refresh their partition's statistics itself, at the least. */
const analyzeAfterRows = 10_000;
/** ...and, for the log, the share of the partition's rows at its last analysis that must have come since. */
const eventsGrowthShare = 0.2;

/**
 * Keeps the statistics of the partitions being written current, in the background, where the plans depend on
 * them and autovacuum looks too rarely (at most once a minute per table, after 10 % of it changed):
 * - deliveries: the dispatcher's lease walks the `next_attempt_at` index only when PostgreSQL knows the
 *   partition is large; on a partition that filled faster than autovacuum looked, or beside a never-analysed
 *   subscriptions table, it sorts every due delivery instead (40 ms against 6 ms per lease with 40,000 due).
 *   Every 10,000 deliveries this process wrote.
 * - events: a poll whose bound is skipped (log-page-sql.ts) relies on the `(resource, seq)` index; on a
 *   partition analysed while nearly empty and filled since, its page statement scanned every row after the
 *   cursor (300 ms for 100,000 rows, against 2 ms). Each time it has grown by a fifth (and 10,000 events)
 *   since its last analysis, so a partition is analysed a few dozen times as it fills, not every few seconds.
 * One analysis at a time per process; a failure only waits for autovacuum.
 */
export class PartitionStatistics {
  private deliveriesSince = 0;
  private eventsSince = 0;
  /** The log partition analysed last, and its rows then (what its next analysis waits to grow by). */
  private eventsPartition: { name: string; rows: number } | undefined;
  private analyzing = false;

  constructor(private readonly pool: pg.Pool) {}

  /** `count` deliveries were written, the newest `newestId`. */
  deliveriesWritten(count: number, newestId: number): void {
    this.deliveriesSince += count;
    if (this.deliveriesSince < analyzeAfterRows || this.analyzing) return;
    this.deliveriesSince = 0;
    // With the subscriptions it joins: a handful of rows that autovacuum may never have analysed either.
    void this.analyze('deliveries', 'id', newestId, 'subscriptions, ');
  }

  /** `count` events were stored, the newest at `newestSeq`. */
  eventsStored(count: number, newestSeq: number): void {
    this.eventsSince += count;
    const grownBy = Math.max(analyzeAfterRows, (this.eventsPartition?.rows ?? 0) * eventsGrowthShare);
    if (this.eventsSince < grownBy || this.analyzing) return;
    this.eventsSince = 0;
    void this.analyze('events', 'seq', newestSeq, '');
  }

  private async analyze(table: 'events' | 'deliveries', key: 'seq' | 'id', value: number, alongside: string): Promise<void> {
    this.analyzing = true;
    try {
      const { rows } = await this.pool.query<{ schema: string; name: string }>(
        `SELECT n.nspname AS schema, c.relname AS name
         FROM ${table} t JOIN pg_class c ON c.oid = t.tableoid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE t.${key} = $1`,
        [value],
      );
      const found = rows[0];
      if (!found) return;
      const quoted = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;
      const partition = `${quoted(found.schema)}.${quoted(found.name)}`;
      await this.pool.query(`ANALYZE ${alongside}${partition}`);
      if (table === 'events') {
        const [size] = (await this.pool.query<{ rows: number }>(`SELECT reltuples::bigint AS rows FROM pg_class WHERE oid = $1::regclass`, [partition])).rows;
        // A new partition (the next day's) starts its growth from nothing again.
        this.eventsPartition = { name: partition, rows: Number(size?.rows ?? 0) };
      }
    } catch {
      // Autovacuum analyses the partition before long anyway.
    } finally {
      this.analyzing = false;
    }
  }
}
