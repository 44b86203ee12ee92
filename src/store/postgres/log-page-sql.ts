import { buildExaminationEnd, buildLogQuery, type SqlStatement } from '../log-query-sql.js';
import type { LogQuery } from '../store.js';
import { postgresDialect } from './dialect.js';

/** The largest position: the end of a read that the bound does not stop. */
const noEnd = '9223372036854775807';

/**
 * One statement, one round trip, for a page of the log as `readLogBytes` answers it: where the bound ends and the
 * page up to there, in one snapshot, as a single row. The payloads come joined by commas (`body`), with their
 * positions (`seqs`) and sizes in bytes (`sizes`), so the driver decodes one text instead of a thousand rows.
 * `through` is the bound's end, NULL when fewer rows than the bound follow; every column but `through` is NULL
 * for an empty page.
 */
export function buildLogPageText(query: LogQuery): SqlStatement {
  const parameters: unknown[] = [];
  const end = query.examineAtMost === undefined ? undefined : buildExaminationEnd(query, postgresDialect, query.examineAtMost, parameters);
  const through = end === undefined ? undefined : { sql: `COALESCE((SELECT seq FROM bound), ${noEnd})` };
  const page = buildLogQuery(query, postgresDialect, through, undefined, parameters);
  const sql = `${end === undefined ? '' : `WITH bound AS MATERIALIZED (${end.sql}) `}SELECT ${end === undefined ? 'NULL::bigint' : '(SELECT seq FROM bound)'} AS through,
    string_agg(payload, ',' ORDER BY seq) AS body,
    string_agg(seq::text, ',' ORDER BY seq) AS seqs,
    string_agg(octet_length(payload)::text, ',' ORDER BY seq) AS sizes
    FROM (${page.sql}) AS page`;
  return { sql, parameters };
}
