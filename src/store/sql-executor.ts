import type { SqlDialect } from './sql-dialect.js';

/**
 * What the shared queries run on: an engine's dialect (how its SQL differs) and a way to run a statement.
 * @example await sql.all<{ n: number }>(`SELECT count(*) AS n FROM deliveries WHERE ${sql.inList('id', 1)}`, [[1, 2]])
 */
export interface SqlExecutor extends SqlDialect {
  /** Runs one statement written with `$n` placeholders and returns its rows (for RETURNING too). */
  all<T>(sql: string, parameters: readonly unknown[]): Promise<T[]>;
}
