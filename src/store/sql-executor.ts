import type { SqlDialect } from './sql-dialect.js';

/** One statement of an atomic write (`SqlExecutor.atomically`). */
export interface AtomicStatement {
  readonly sql: string;
  readonly parameters: readonly unknown[];
  /**
   * The write goes on only if this statement returns a row (give it a RETURNING): otherwise everything is
   * rolled back. A compare-and-set on a row a writer read, say, so that a writer that lost a race writes nothing.
   */
  readonly guard?: boolean;
}

/**
 * What the shared queries run on: an engine's dialect (how its SQL differs) and a way to run a statement.
 * @example await sql.all<{ n: number }>(`SELECT count(*) AS n FROM deliveries WHERE ${sql.inList('id', 1)}`, [[1, 2]])
 */
export interface SqlExecutor extends SqlDialect {
  /** Runs one statement written with `$n` placeholders and returns its rows (for RETURNING too). */
  all<T>(sql: string, parameters: readonly unknown[]): Promise<T[]>;
  /**
   * Runs statements in order in one transaction that writes deliveries as publishing does: on PostgreSQL under
   * the append lock, so delivery ids are drawn in commit order as a pull queue's readers need (one writer on
   * SQLite). Keep it short: publishing waits meanwhile.
   * @returns each statement's rows, or `undefined` when a guard returned none and the whole write was undone
   */
  atomically(statements: readonly AtomicStatement[]): Promise<unknown[][] | undefined>;
  /**
   * Resolves once every write committed before the call is as durable as a write's answer promises (flushed;
   * on PostgreSQL with a synchronous standby, on the standby too). For a write that found its work done
   * already, and so committed nothing to wait for: the first one may be a write whose answer failed
   * (docs/high-availability.md), and its repeat must not be answered as done before it is.
   */
  durable(): Promise<void>;
}
