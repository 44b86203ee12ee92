import type pg from 'pg';
import type { AtomicStatement } from '../sql-executor.js';

/**
 * SqlExecutor.atomically on PostgreSQL: one transaction under the append lock (`appendLockKey`), so the
 * delivery ids it draws are in commit order with every publish's (a pull queue's reader must never see a
 * lower id commit after a higher one). A guard that returns no row rolls the whole write back.
 */
export async function atomically(pool: pg.Pool, appendLockKey: number, statements: readonly AtomicStatement[]): Promise<unknown[][] | undefined> {
  const client = await pool.connect();
  let failed = false;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [appendLockKey]);
    const results: unknown[][] = [];
    for (const { sql, parameters, guard } of statements) {
      const { rows } = await client.query({ text: sql, values: parameters as unknown[] });
      if (guard && rows.length === 0) {
        await client.query('ROLLBACK');
        return undefined;
      }
      results.push(rows);
    }
    await client.query('COMMIT');
    return results;
  } catch (error) {
    failed = true;
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    // A connection that failed mid-transaction is discarded, not handed to the next caller.
    client.release(failed);
  }
}
