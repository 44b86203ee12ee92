import type pg from 'pg';
import type { AtomicStatement } from '../sql-executor.js';
import { type CommitBound, CommitClock } from './bounded-commit.js';

/**
 * SqlExecutor.atomically on PostgreSQL: one transaction under the append lock (`appendLockKey`), so the
 * delivery ids it draws are in commit order with every publish's (a pull queue's reader must never see a
 * lower id commit after a higher one). A guard that returns no row rolls the whole write back. The whole
 * transaction, its COMMIT included, is answered within the commit bound or fails as unavailable (CommitClock).
 */
export async function atomically(
  pool: pg.Pool,
  appendLockKey: number,
  statements: readonly AtomicStatement[],
  bound: CommitBound,
): Promise<unknown[][] | undefined> {
  const clock = new CommitClock(await pool.connect(), bound);
  let failed = false;
  try {
    await clock.query('BEGIN');
    await clock.query({ text: 'SELECT pg_advisory_xact_lock($1)', values: [appendLockKey] });
    const results: unknown[][] = [];
    for (const { sql, parameters, guard } of statements) {
      const rows = await clock.query({ text: sql, values: parameters as unknown[] });
      if (guard && rows.length === 0) {
        await clock.query('ROLLBACK');
        return undefined;
      }
      results.push(rows);
    }
    await clock.query('COMMIT');
    return results;
  } catch (error) {
    failed = true;
    // A write that ran out of time has a statement still being cancelled: its connection is discarded, which
    // rolls back whatever was not committed.
    if (!clock.ranOut) await clock.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    // A connection that failed mid-transaction is discarded, not handed to the next caller.
    clock.release(failed);
  }
}
