import { buildExaminationEnd, buildLogQuery, examinationEndNeeded, type SqlStatement } from './log-query-sql.js';
import type { SqlDialect } from './sql-dialect.js';
import type { LogQuery } from './store.js';

/** The largest position: the end of a read that the bound does not stop. */
const noEnd = '9223372036854775807';

/** The row `buildLogPageText` answers, with `body` as the driver gives it (text), or as bytes. */
export interface LogPageRow<Body> {
  readonly through: number | null;
  readonly body: Body;
  /** Positions and payload sizes in bytes, comma-separated; NULL for an empty page. */
  readonly seqs: string | null;
  readonly sizes: string | null;
}

/**
 * One statement for a page of the log as `readLogBytes` answers it: where the bound ends and the page up to
 * there, in one snapshot, as a single row. The database joins the payloads into the JSON array the answer sends
 * (`body`, `[p1,p2,…]`, each payload as stored), with their positions (`seqs`) and sizes in bytes (`sizes`), so
 * the driver hands over one value instead of a row per event. `through` is the bound's end, NULL when fewer rows
 * than the bound follow or the read needs no bound (`examinationEndNeeded`). PostgreSQL uses it; on SQLite the ordered aggregates sort in temporary trees and the
 * statement took three times as long as the two it replaces.
 * @example buildLogPageText({ afterSeq: 0, resource: 'urn:a:b', limit: 1000, examineAtMost: 10_000 }, dialect)
 */
export function buildLogPageText(query: LogQuery, dialect: SqlDialect): SqlStatement {
  const parameters: unknown[] = [];
  const end = examinationEndNeeded(query) ? buildExaminationEnd(query, dialect, query.examineAtMost, parameters) : undefined;
  const through = end === undefined ? undefined : { sql: `COALESCE((SELECT seq FROM bound), ${noEnd})` };
  const page = buildLogQuery(query, dialect, through, undefined, parameters);
  const joined = (expression: string) => `string_agg(${expression}, ',' ORDER BY seq)`;
  const sql = `${end === undefined ? '' : `WITH bound AS MATERIALIZED (${end.sql}) `}SELECT
    ${end === undefined ? 'NULL' : '(SELECT seq FROM bound)'} AS through,
    '[' || COALESCE(${joined('payload')}, '') || ']' AS body,
    ${joined('CAST(seq AS TEXT)')} AS seqs,
    ${joined('CAST(octet_length(payload) AS TEXT)')} AS sizes
    FROM (${page.sql}) AS page`;
  return { sql, parameters };
}
