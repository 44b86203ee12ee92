// `npm run schema:dump`: migrates a fresh database of each engine and writes its schema dump to
// src/store/<engine>/schema.sql, which test/store/schema-dump.test.ts compares with a freshly migrated
// database. Run it after adding a migration and commit the dumps with it: their diff is the schema change.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { committedSchemaPath, dumpSchema, type SchemaEngine } from '../src/store/schema-dump.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';

/** The PostgreSQL the tests use; this script creates its own database there and drops it afterwards. */
const adminUrl = process.env.HERALD_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';

async function freshSqliteDump(): Promise<string> {
  const folder = mkdtempSync(join(tmpdir(), 'herald-schema-'));
  try {
    const database = join(folder, 'herald.db');
    await (await SqliteStore.open(database)).close();
    return await dumpSchema(database);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

async function freshPostgresDump(): Promise<string> {
  const name = `herald_schema_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    try {
      await (await PostgresStore.open({ connectionString: url.toString() })).close();
      return await dumpSchema(url.toString());
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

const dumps: Record<SchemaEngine, () => Promise<string>> = { sqlite: freshSqliteDump, postgres: freshPostgresDump };
for (const [engine, dump] of Object.entries(dumps) as [SchemaEngine, () => Promise<string>][]) {
  const path = committedSchemaPath(engine);
  writeFileSync(path, await dump());
  console.warn(`wrote ${path}`);
}
