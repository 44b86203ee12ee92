/**
 * The little an engine must provide for the queries both engines share: run a statement written with `$n`
 * placeholders, and say how to test membership in a list parameter.
 */
export interface SqlExecutor {
  /** Runs one statement and returns its rows (for RETURNING too). */
  all<T>(sql: string, parameters: readonly unknown[]): Promise<T[]>;
  /** A condition: `column` is one of the values in list parameter `$n`. */
  inList(column: string, parameter: number): string;
  /** Appended to a SELECT that picks rows of `table` to lease: `FOR UPDATE … SKIP LOCKED` where the engine has it. */
  lockForLease(table: string): string;
  /** An expression that yields the payload of events table `alias` as JSON text. */
  payloadOf(alias: string): string;
  /**
   * A subquery to use as a table: the rows of parameter `$n`, a JSON array of arrays, one array per row with
   * its values in the order of `columns`. The statement's text stays the same however many rows it carries.
   */
  rowsOf(parameter: number, columns: readonly (readonly [name: string, type: ColumnType])[]): string;
}

export type ColumnType = 'bigint' | 'integer' | 'text';
