import pg from 'pg';
import { buildExaminationEnd, buildLogQuery, examinationEndNeeded, type SqlStatement } from '../log-query-sql.js';
import { pageFromRow } from '../log-page-bytes.js';
import { buildLogPageText, type LogPageRow } from '../log-page-sql.js';
import type { LoggedEvent, LogPage, LogPageBytes, LogQuery } from '../store.js';
import { postgresDialect } from './dialect.js';

/**
 * Pages of the log read from one PostgreSQL server: the primary's pool (postgres-store.ts) or a read replica's
 * (replica.ts). The same statements on either, each prepared once per connection.
 */
export class PostgresLogPages {
  private readonly statementNames = new Map<string, string>();

  constructor(private readonly pool: pg.Pool) {}

  async read(query: LogQuery): Promise<LogPage> {
    // Two statements, two snapshots: positions are handed out in commit order, so once the end's row is
    // visible every row before it has committed, and the second read sees exactly the rows the first counted.
    // A hot standby applies commits in the primary's order, so the same holds there.
    const end = examinationEndNeeded(query)
      ? ((await this.run<{ seq: number | null }>(buildExaminationEnd(query, postgresDialect, query.examineAtMost)))[0]?.seq ?? undefined)
      : undefined;
    return { events: await this.run<LoggedEvent>(buildLogQuery(query, postgresDialect, end)), examinedThrough: end };
  }

  /** One statement and one text per page (buildLogPageText). */
  async readBytes(query: LogQuery): Promise<LogPageBytes> {
    const [row] = await this.run<LogPageRow<string>>(buildLogPageText(query, postgresDialect));
    if (!row) throw new Error('the page statement answered no row');
    // The driver decodes text; encoded once here, the answer is sent as these bytes.
    return pageFromRow({ ...row, body: Buffer.from(row.body) });
  }

  private async run<Row extends object>({ sql, parameters }: SqlStatement): Promise<Row[]> {
    const { rows } = await this.pool.query<Row>({ name: this.statementName(sql), text: sql, values: parameters });
    return rows;
  }

  /** Named statements are prepared once per connection and reused by every later page read. */
  private statementName(sql: string): string {
    let name = this.statementNames.get(sql);
    if (!name) {
      name = `herald_log_${this.statementNames.size + 1}`;
      if (this.statementNames.size < 256) this.statementNames.set(sql, name);
      else return '';
    }
    return name;
  }
}

/** bigint columns (positions, ids, epoch milliseconds) stay far below 2^53: every pool reads them as numbers. */
export const bigintsAsNumbers = {
  getTypeParser: ((oid: number, format?: string) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser,
};
