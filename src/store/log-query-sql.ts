import type { TextPattern } from '../domain/text-pattern.js';
import type { LogQuery } from './store.js';

/** How one engine writes parameters and wildcard matches. */
export interface SqlDialect {
  /** The select-list expression that yields the payload as JSON text. */
  readonly payloadColumn: string;
  /** The placeholder for the n-th parameter (1-based). */
  placeholder(position: number): string;
  /** A condition matching `column` against a `%` pattern, given the rendered parameter. */
  wildcardCondition(column: string, parameter: string): string;
  /** Renders a wildcard pattern as the parameter `wildcardCondition` expects. */
  wildcardParameter(parts: readonly string[]): string;
}

/**
 * Builds the SELECT for one page of the log. Only the filters the caller gave appear in the statement, so
 * each combination gets a plan that uses its index.
 */
export function buildLogQuery(query: LogQuery, dialect: SqlDialect): { sql: string; parameters: unknown[] } {
  const parameters: unknown[] = [];
  const bind = (value: unknown) => {
    parameters.push(value);
    return dialect.placeholder(parameters.length);
  };
  const conditions = [`seq > ${bind(query.afterSeq)}`];
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
  const sql = `SELECT seq, ${dialect.payloadColumn} FROM events WHERE ${conditions.join(' AND ')} ORDER BY seq LIMIT ${bind(query.limit)}`;
  return { sql, parameters };
}
