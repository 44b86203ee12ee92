import type { LogPositions, RetentionEngine } from '../retention-repository.js';
import type { SqlExecutor } from '../sql-executor.js';

/**
 * SQLite's retention: no partitions; old rows are removed in small batches, and the keys of removed events
 * are copied to `removed_event_keys`. One writer, so positions read at any moment are all committed.
 */
export function sqliteRetention(sql: SqlExecutor): RetentionEngine {
  return {
    removedKeys: 'removed_event_keys',
    async positions(): Promise<LogPositions> {
      // AUTOINCREMENT keeps the highest number ever handed out in sqlite_sequence, even after deletes.
      const [row] = await sql.all<{ events: number | null; deliveries: number | null }>(
        `SELECT (SELECT seq FROM sqlite_sequence WHERE name = 'events') AS events,
                (SELECT seq FROM sqlite_sequence WHERE name = 'deliveries') AS deliveries`,
        [],
      );
      return { eventsBefore: (row?.events ?? 0) + 1, deliveriesBefore: (row?.deliveries ?? 0) + 1 };
    },
    async rowRemovalBounds(): Promise<LogPositions> {
      return { eventsBefore: Number.POSITIVE_INFINITY, deliveriesBefore: Number.POSITIVE_INFINITY };
    },
    async dropPartitionsBefore(): Promise<string[]> {
      return [];
    },
  };
}
