/**
 * How one engine's SQL differs from the other's, for every statement both engines share: the repositories'
 * and the log reads'. Each engine declares it once, in `<engine>/dialect.ts`; the statements are written once.
 *
 * Shared statements name their parameters `$1`, `$2`, …; a list or a set of rows travels as one parameter
 * (the engine's executor binds it as the dialect's functions below expect). Statements built piece by piece
 * (the log reads) ask `placeholder` instead, since SQLite binds those by position.
 */
export interface SqlDialect {
  /** The placeholder for the n-th parameter (1-based) of a statement built piece by piece. */
  placeholder(position: number): string;
  /** A condition: `column` is one of the values in list parameter `$n`. */
  inList(column: string, parameter: number): string;
  /**
   * A subquery to use as a table: the rows of parameter `$n`, a JSON array of arrays, one array per row with
   * its values in the order of `columns`. The statement's text stays the same however many rows it carries.
   */
  rowsOf(parameter: number, columns: readonly (readonly [name: string, type: ColumnType])[]): string;
  /** An expression that yields the payload of events table `alias` as JSON text. */
  payloadOf(alias: string): string;
  /** A condition matching `column` against a `%` pattern, given the rendered parameter. */
  wildcardCondition(column: string, parameter: string): string;
  /** Renders a wildcard pattern (its literal parts, between which anything may stand) as `wildcardCondition` expects. */
  wildcardParameter(parts: readonly string[]): string;
  /** Appended to a SELECT that picks rows of `table` to lease: `FOR UPDATE … SKIP LOCKED` where the engine has it. */
  lockForLease(table: string): string;
  /**
   * The ordering key of an event (events table `event`) for a subscription ordered by the column `ordering`
   * ('subject' or 'partitionkey'; docs/ordering.md): what publishing writes in `deliveries.ordering_key`, so a
   * delivery written elsewhere (a replay) queues behind the same key. Null when the event lacks the attribute.
   */
  orderingKeyOf(ordering: string, event: string): string;
  /**
   * An expression taking the lock that serializes making ordered keys' heads across processes, for a write that
   * enqueues ordered deliveries outside publishing; `undefined` where one writer at a time serializes them.
   */
  readonly orderedKeysLock: string | undefined;
  /**
   * Joins each row of the query so far to the rows of `table` (as `alias`) meeting `condition`, at most `limit`
   * (a parameter) per row, read row by row (a nested loop, the left side outermost): so a condition an index
   * serves is read through that index, never by scanning `table`. For counts whose cost must stay bounded.
   */
  joinEach(table: string, alias: string, condition: string, limit: string): string;
}

export type ColumnType = 'bigint' | 'integer' | 'text';
