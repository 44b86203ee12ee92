import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { committedSchemaPath, dumpSchema } from '../../src/store/schema-dump.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { executeRaw } from '../support/raw-sql.js';

describeEachEngine('Schema dump on $name', (engine) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await engine.create();
    await (await db.open()).close();
  });
  afterEach(async () => {
    await db.destroy();
  });

  const execute = (sql: string) => executeRaw(engine.name, db.database, sql);

  it('matches the committed dump of the schema, so schema changes read as a diff', async () => {
    const path = committedSchemaPath(engine.name);
    const fresh = await dumpSchema(db.database);
    // The message comes first, then the diff between the two.
    expect(
      fresh,
      `The migrated ${engine.name} schema differs from ${path}: run \`npm run schema:dump\` and review the diff.`,
    ).toBe(readFileSync(path, 'utf8'));
  });

  it('shows a schema change: an extra index, column or table changes the dump', async () => {
    const before = await dumpSchema(db.database);
    await execute('CREATE INDEX schema_dump_probe ON subscriptions (endpoint)');
    const withIndex = await dumpSchema(db.database);
    expect(withIndex).not.toBe(before);
    expect(withIndex).toContain('schema_dump_probe');
    await execute('ALTER TABLE herald_keys ADD COLUMN probe_column integer');
    expect(await dumpSchema(db.database)).toContain('probe_column');
    await execute('CREATE TABLE schema_dump_probe_table (x integer)');
    expect(await dumpSchema(db.database)).toContain('schema_dump_probe_table');
  });

  it('leaves out data and stays the same on a database that has been used', async () => {
    const before = await dumpSchema(db.database);
    await execute(
      engine.name === 'sqlite'
        ? "INSERT INTO herald_keys (name, value) VALUES ('probe', 'x'); INSERT INTO herald_migrations VALUES (998, '998_probe', 'now'); DELETE FROM herald_migrations WHERE version = 998"
        : "INSERT INTO herald_keys (name, value) VALUES ('probe', 'x'); SELECT setval('events_seq_seq', 123456789)",
    );
    expect(await dumpSchema(db.database)).toBe(before);
  });

  if (engine.name === 'postgres') {
    it('does not depend on the day: day partitions made on other days leave the dump unchanged', async () => {
      const before = await dumpSchema(db.database);
      // What the retention loop makes as days pass (postgres/retention.ts): tomorrow's partitions, and the one of a
      // day far ahead, each with the indexes their parents give them.
      const client = new pg.Client({ connectionString: db.database });
      await client.connect();
      try {
        const { rows } = await client.query<{ to_day: number }>('SELECT max(to_day) AS to_day FROM herald_partitions');
        const tomorrow = Number(rows[0]?.to_day);
        for (const day of [tomorrow, tomorrow + 400]) {
          for (const table of ['events', 'deliveries']) {
            await client.query(
              `CREATE TABLE ${table}_p${day} PARTITION OF ${table} FOR VALUES FROM (${day * 1e10}) TO (${(day + 1) * 1e10})`,
            );
          }
          await client.query('INSERT INTO herald_partitions (from_day, to_day) VALUES ($1, $2)', [day, day + 1]);
        }
      } finally {
        await client.end();
      }
      expect(await dumpSchema(db.database)).toBe(before);
    });
  }
});
