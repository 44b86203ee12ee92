// Prints how each engine plans the reads that the log's indexes serve: every poll filter (with the bounded
// examination's end), `after=<id>` lookups with and without a source, and retention's key lookups.
//
//   node --import tsx bench/raw/plans.ts --sqlite /tmp/herald-raw-bench/sqlite-today-200000.db
//   node --import tsx bench/raw/plans.ts --postgres postgres://postgres@127.0.0.1:5432/herald_raw_today_200000
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { parseSourceFilter } from '../../src/domain/source-filter.js';
import { parseTextPattern } from '../../src/domain/text-pattern.js';
import { buildExaminationEnd, buildLogQuery, type SqlStatement } from '../../src/store/log-query-sql.js';
import { postgresDialect } from '../../src/store/postgres/dialect.js';
import type { SqlDialect } from '../../src/store/sql-dialect.js';
import { sqliteDialect } from '../../src/store/sqlite/dialect.js';
import type { LogQuery } from '../../src/store/store.js';

const { values } = parseArgs({ options: { sqlite: { type: 'string' }, postgres: { type: 'string' } } });

const sqlite = sqliteDialect;
const postgres = postgresDialect;

const instance = 'https://ttd.apps.altinn.no/ttd/app-7/instances/50012345/3f2c1d9e-0000-4000-8000-000000000000';
const polls: Record<string, Omit<LogQuery, 'afterSeq' | 'limit'>> = {
  'resource': { resource: 'urn:altinn:resource:app_ttd_app-7' },
  'source = instance (tree)': { source: parseSourceFilter(instance) },
  'source = app (tree, many below)': { source: parseSourceFilter('https://ttd.apps.altinn.no/ttd/app-7') },
  'source % pattern': { source: parseSourceFilter('https://ttd.apps.altinn.no/ttd/app-7/instances/%') },
  'resource + source': { resource: 'urn:altinn:resource:app_ttd_app-7', source: parseSourceFilter(instance) },
  'resource + type': { resource: 'urn:altinn:resource:app_ttd_app-7', types: [parseTextPattern('app.instance.created')] },
  'resource + subject': { resource: 'urn:altinn:resource:app_ttd_app-7', subject: '/party/50012345' },
  'resource + alternativesubject': { resource: 'urn:altinn:resource:app_ttd_app-7', alternativesubject: '/person/01017012345' },
};

/** Statements with `$n` placeholders (the repositories'), for SQLite with their numbers as names. */
const lookups: Record<string, SqlStatement> = {
  'after=<id> with source': { sql: 'SELECT k.seq FROM events k WHERE k.source = $1 AND k.id = $2', parameters: [instance, 'x'] },
  'after=<id> without source': { sql: 'SELECT min(k.seq) AS seq FROM events k WHERE k.id = $1', parameters: ['x'] },
};

/** The reads of a poll 1,000 events into the log, examining 10,000 rows: where positions start differs by engine. */
function statements(dialect: SqlDialect, first: number): [string, SqlStatement][] {
  const out: [string, SqlStatement][] = [];
  for (const [name, filters] of Object.entries(polls)) {
    const query: LogQuery = { afterSeq: first + 1000, limit: 50, ...filters };
    out.push([`${name}: examination end`, buildExaminationEnd(query, dialect, 10_000)]);
    out.push([`${name}: page`, buildLogQuery(query, dialect, first + 11_000)]);
  }
  return out;
}

if (values.sqlite) {
  const db = new Database(values.sqlite, { readonly: true });
  const explain = (sql: string, parameters: unknown[]) =>
    (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...parameters) as { detail: string }[]).map((r) => r.detail).join('; ');
  const first = (db.prepare('SELECT min(seq) AS seq FROM events').get() as { seq: number }).seq;
  for (const [name, { sql, parameters }] of statements(sqlite, first)) console.warn(`${name}\n    ${explain(sql, parameters)}`);
  for (const [name, { sql, parameters }] of Object.entries(lookups)) {
    const named = Object.fromEntries(parameters.map((value, index) => [index + 1, value]));
    console.warn(`${name}\n    ${explain(sql, [named])}`);
  }
  db.close();
}

if (values.postgres) {
  const client = new pg.Client({ connectionString: values.postgres });
  await client.connect();
  const explain = async (sql: string, parameters: unknown[]) =>
    (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, parameters)).rows.map((r) => r['QUERY PLAN'].trim()).join('\n    ');
  const keyed = (statement: SqlStatement): SqlStatement => ({ ...statement, sql: statement.sql.replaceAll('FROM events k', 'FROM event_keys k') });
  const first = Number((await client.query<{ seq: string }>('SELECT min(seq) AS seq FROM events')).rows[0]?.seq);
  for (const [name, { sql, parameters }] of statements(postgres, first)) console.warn(`${name}\n    ${await explain(sql, parameters)}`);
  for (const [name, statement] of Object.entries(lookups).map(([n, s]) => [n, keyed(s)] as const)) {
    console.warn(`${name}\n    ${await explain(statement.sql, statement.parameters)}`);
  }
  await client.end();
}
