import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { parseSourceFilter } from '../../src/domain/source-filter.js';
import { buildExaminationEnd, buildLogQuery, type SqlStatement } from '../../src/store/log-query-sql.js';
import { postgresDialect } from '../../src/store/postgres/dialect.js';
import type { SqlDialect } from '../../src/store/sql-dialect.js';
import { sqliteDialect } from '../../src/store/sqlite/dialect.js';
import { applyMigrations } from '../support/migrate.js';
import { readMigrations } from '../../src/store/migration-files.js';
import type { LogQuery } from '../../src/store/store.js';
import { describeEachEngine, type Engine, type TestDatabase } from '../support/engines.js';
import { validEvent } from '../support/test-app.js';
import { rawSql } from './retention-harness.js';

/** The migration that gave events one key index (id, source). */
const keyIndexMigration = { sqlite: 8, postgres: 10 } as const;

/** The dialects the stores render their reads with. */
const dialects: Record<Engine['name'], SqlDialect> = { sqlite: sqliteDialect, postgres: postgresDialect };

const app = 'https://ttd.apps.altinn.no/ttd/app-1';
const resourceOf = (n: number) => `urn:altinn:resource:app_ttd_app-${n}`;

/** Altinn-shaped: a source per instance, a GUID id, one of 100 apps, a subject and an alternative subject per party. */
function altinnEvent(n: number) {
  const party = 50_000_000 + ((n * 7919) % 1000);
  return validEvent({
    source: `${app.replace('app-1', `app-${n % 100}`)}/instances/${party}/${crypto.randomUUID()}`,
    resource: resourceOf(n % 100),
    subject: `/party/${party}`,
    alternativesubject: `/person/${String(party).padStart(11, '0')}`,
  });
}

describeEachEngine('The event log indexes on $name', (engine) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await engine.create();
  });
  afterEach(async () => {
    await db.destroy();
  });

  /** Builds the schema Herald had before the key index: every migration up to the one before it. */
  async function migrateBeforeKeyIndex(): Promise<void> {
    const migrations = readMigrations(engine.name).filter((m) => m.version < keyIndexMigration[engine.name]);
    await applyMigrations(engine.name, db.database, migrations);
  }

  it('keeps the key of an event stored before the key index: a repeat stores nothing, `after` finds it by id', async () => {
    await migrateBeforeKeyIndex();
    const old = altinnEvent(1);
    if (engine.name === 'sqlite') {
      await rawSql(engine, db.database, 'INSERT INTO events (id, source, type, resource, registered_at, payload) VALUES ($1, $2, $3, $4, $5, $6)', [
        old.id, old.source, old.type, old.resource, Date.now(), old.payload,
      ]);
    } else {
      await rawSql(engine, db.database, 'SELECT * FROM herald_append(1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, NULL, $13)', [
        [old.id], [old.source], [old.type], [old.resource], [old.subject], [old.alternativesubject], [old.time], [old.payload],
        [], [], [], Date.now(), 'herald_test',
      ]);
    }
    const store = await db.open();
    const [stored] = await store.readEvents({ afterSeq: 0, limit: 10 });

    expect(await store.appendEvents([old, { ...old, source: `${old.source}/other` }])).toEqual([false, true]);
    expect(await store.findEventPosition(old.id)).toBe(stored?.seq);
    expect(await store.findEventPosition(old.id, old.source)).toBe(stored?.seq);
    expect(await store.findEventPosition(old.id, `${old.source}/none`)).toBeUndefined();
  });

  it('plans every poll filter and every `after` lookup on the index that serves it', async () => {
    const store = await db.open();
    for (let batch = 0; batch < 10; batch++) {
      await store.appendEvents(Array.from({ length: 300 }, (_, i) => altinnEvent(batch * 300 + i)));
    }
    const first = (await store.readEvents({ afterSeq: 0, limit: 1 }))[0]?.seq ?? 0;
    const [sample] = await store.readEvents({ afterSeq: first + 1000, limit: 1 });
    const { id, source, subject, alternativesubject } = JSON.parse(sample?.payload ?? '{}') as Record<string, string>;
    const keyIndex = engine.name === 'sqlite' ? 'events_id_source' : 'event_keys_pkey';
    // A poll naming one instance's source: SQLite reads the bounded range of the primary key (as it did with
    // a (source, seq) index), PostgreSQL looks the source up in (source, seq). PostgreSQL's day partitions
    // name their indexes after the parent's columns: events_p<day>_source_seq_idx.
    const sourceIndex = engine.name === 'sqlite' ? 'INTEGER PRIMARY KEY' : '_source_seq';
    const poll = (filters: Omit<LogQuery, 'afterSeq' | 'limit'>): LogQuery => ({ afterSeq: first + 100, limit: 50, ...filters });
    const dialect = dialects[engine.name];

    const expected: [string, SqlStatement, string][] = [
      ['after=<id>', { sql: 'SELECT min(k.seq) AS seq FROM events k WHERE k.id = $1', parameters: [id] }, keyIndex],
      ['after=<id> with a source', { sql: 'SELECT k.seq FROM events k WHERE k.source = $1 AND k.id = $2', parameters: [source, id] }, keyIndex],
      ['resource', buildLogQuery(poll({ resource: resourceOf(3) }), dialect, first + 1100), '_resource_seq'],
      ['subject', buildExaminationEnd(poll({ resource: resourceOf(3), subject }), dialect, 1000), '_subject_seq'],
      ['subject', buildLogQuery(poll({ resource: resourceOf(3), subject }), dialect, first + 1100), '_subject_seq'],
      ['alternativesubject', buildExaminationEnd(poll({ resource: resourceOf(3), alternativesubject }), dialect, 1000), '_alternativesubject_seq'],
      ['alternativesubject', buildLogQuery(poll({ resource: resourceOf(3), alternativesubject }), dialect, first + 1100), '_alternativesubject_seq'],
      ['source', buildLogQuery(poll({ source: parseSourceFilter(source ?? '') }), dialect, first + 1100), sourceIndex],
    ];
    for (const [read, statement, index] of expected) {
      expect(await plan(engine, db.database, statement), read).toContain(index);
    }
  });
});

/**
 * How the engine plans a statement. PostgreSQL plans by its statistics, so the tables are analysed first, and
 * sequential scans are ruled out: on a test's few thousand rows one costs less than any index, on a real log not.
 */
async function plan(engine: Engine, database: string, { sql, parameters }: SqlStatement): Promise<string> {
  if (engine.name === 'sqlite') {
    const raw = new Database(database, { readonly: true });
    try {
      // The repositories' `$n` placeholders bind by name, as the store's executor binds them; the log reads' `?` by place.
      const values = sql.includes('$') ? [Object.fromEntries(parameters.map((value, i) => [i + 1, value]))] : parameters;
      const statement = raw.prepare(`EXPLAIN QUERY PLAN ${sql}`);
      return (statement.all(...values) as { detail: string }[]).map((row) => row.detail).join('\n');
    } finally {
      raw.close();
    }
  }
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  try {
    await client.query('ANALYZE events, event_keys');
    await client.query('SET enable_seqscan = off');
    // The lookups are written for SQLite's single table; PostgreSQL keeps the keys in event_keys.
    const text = sql.replace('FROM events k', 'FROM event_keys k');
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, parameters as unknown[]);
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  } finally {
    await client.end();
  }
}
