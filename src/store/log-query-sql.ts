import type { TextPattern } from '../domain/text-pattern.js';
import type { SqlDialect } from './sql-dialect.js';
import type { LogQuery } from './store.js';

/** A statement and its parameters. */
export interface SqlStatement {
  readonly sql: string;
  readonly parameters: unknown[];
}

/**
 * Builds the SELECT for one page of the log. Only the filters the caller gave appear in the statement, so
 * each combination gets a plan that uses its index. With `throughSeq` (from `buildExaminationEnd`) the scan
 * ends there: a range of the primary key, or of the equality filter's `(column, seq)` index. `columns` are
 * what each row returns: by default its position and payload. `throughSeq` may be an SQL expression instead,
 * and `parameters` those of a statement this one is part of (numbering continues after them).
 */
export function buildLogQuery(
  query: LogQuery,
  dialect: SqlDialect,
  throughSeq?: number | { readonly sql: string },
  columns?: string,
  parameters: unknown[] = [],
): SqlStatement {
  const bind = (value: unknown) => {
    parameters.push(value);
    return dialect.placeholder(parameters.length);
  };
  const conditions = [`seq > ${bind(query.afterSeq)}`];
  if (throughSeq !== undefined) {
    conditions.push(`seq <= ${typeof throughSeq === 'number' ? bind(throughSeq) : throughSeq.sql}`);
  }
  const matchPattern = (column: string, pattern: TextPattern) =>
    pattern.kind === 'exact'
      ? `${column} = ${bind(pattern.value)}`
      : dialect.wildcardCondition(column, bind(dialect.wildcardParameter(pattern.parts)));

  if (query.resource !== undefined) conditions.push(`resource = ${bind(query.resource)}`);
  const source = query.source;
  if (source?.kind === 'wildcard') conditions.push(matchPattern('source', source));
  if (source?.kind === 'tree') {
    // Bound in the order they appear: SQLite's `?` placeholders are positional.
    const exact = `source = ${bind(source.uri)}`;
    const below = dialect.wildcardCondition('source', bind(dialect.wildcardParameter([source.below, ''])));
    conditions.push(`(${exact} OR ${below})`);
  }
  if (query.types && query.types.length > 0) {
    conditions.push(`(${query.types.map((type) => matchPattern('type', type)).join(' OR ')})`);
  }
  if (query.subject !== undefined) conditions.push(`subject = ${bind(query.subject)}`);
  if (query.alternativesubject !== undefined) {
    conditions.push(`alternativesubject = ${bind(query.alternativesubject)}`);
  }
  const sql = `SELECT ${columns ?? `seq, ${dialect.payloadOf('events')} AS payload`} FROM events WHERE ${conditions.join(' AND ')} ORDER BY seq LIMIT ${bind(query.limit)}`;
  return { sql, parameters };
}

/**
 * Whether a read must first find where its bound ends. Not when its one filter is an equality (`resource`,
 * `subject` or `alternativesubject`) and the page is no larger than the bound: every entry of that filter's
 * index is then a match, so the page fills before the bound is reached, or there are fewer entries than the
 * bound and it would end nowhere (NULL) anyway. That is the common poll (a resource, or a party's subject),
 * and it spares counting `examineAtMost` index entries per page (2–3 ms on PostgreSQL for 10,000).
 * @example examinationEndNeeded({ afterSeq: 0, resource: 'urn:a:b', limit: 1000, examineAtMost: 10_000 }) // false
 */
export function examinationEndNeeded(query: LogQuery): query is LogQuery & { readonly examineAtMost: number } {
  if (query.examineAtMost === undefined) return false;
  const equalities = [query.resource, query.subject, query.alternativesubject].filter((value) => value !== undefined);
  const patterns = (query.types?.length ?? 0) > 0 || query.source !== undefined;
  return equalities.length !== 1 || patterns || query.limit > query.examineAtMost;
}

/**
 * Builds the SELECT of the position where a read of at most `rows` rows ends: the `rows`-th row after
 * `afterSeq` in the order the read will examine them, or NULL when fewer follow (the read then runs to the
 * end of the log, which is fewer rows than the bound). Positions have gaps (PostgreSQL's jump by 10^10
 * between days), so the bound is counted in rows, never added to `afterSeq`.
 *
 * Without an equality filter the read scans the primary key, so the count is of log rows. Each equality
 * filter (`resource`, `subject`, `alternativesubject`) has a `(column, seq)` index the read may use instead:
 * the count is then of that index's entries, every one a candidate, so sparse matches far apart still fill
 * a page. With two of them the earlier end wins, so whichever index the planner takes holds at most `rows`
 * entries in the range. Each count walks one index only (an index-only scan on PostgreSQL).
 *
 * `parameters`: as for `buildLogQuery`.
 *
 * @example buildExaminationEnd({ afterSeq: 0, resource: 'urn:a:b', limit: 50 }, dialect, 10_000)
 */
export function buildExaminationEnd(query: LogQuery, dialect: SqlDialect, rows: number, parameters: unknown[] = []): SqlStatement {
  const bind = (value: unknown) => {
    parameters.push(value);
    return dialect.placeholder(parameters.length);
  };
  const equalities = (
    [
      ['resource', query.resource],
      ['subject', query.subject],
      ['alternativesubject', query.alternativesubject],
    ] as const
  ).filter(([, value]) => value !== undefined);
  // Bound in the order they appear: SQLite's `?` placeholders are positional.
  const nth = (equality?: readonly [string, string | undefined]) => {
    const after = `seq > ${bind(query.afterSeq)}`;
    const condition = equality === undefined ? '' : ` AND ${equality[0]} = ${bind(equality[1])}`;
    return `SELECT (SELECT seq FROM events WHERE ${after}${condition} ORDER BY seq LIMIT 1 OFFSET ${bind(rows - 1)}) AS seq`;
  };
  const ends = equalities.length === 0 ? [nth()] : equalities.map((equality) => nth(equality));
  return { sql: `SELECT min(seq) AS seq FROM (${ends.join(' UNION ALL ')}) AS ends`, parameters };
}
