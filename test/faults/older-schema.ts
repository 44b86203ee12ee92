import Database from 'better-sqlite3';
import pg from 'pg';
import { readMigrations } from '../../src/store/migration-files.js';
import type { Engine, TestDatabase } from '../support/engines.js';

/**
 * Builds `db` as an older Herald left it: every migration before the one whose name ends in `suffix` (found
 * by name, so the numbering may change). Then open the store to apply the rest.
 * @returns the migration's version
 */
export async function migrateToBefore(engine: Engine, db: TestDatabase, suffix: string): Promise<number> {
  const migrations = readMigrations(engine.name);
  const target = migrations.find((m) => m.name.endsWith(suffix));
  if (!target) throw new Error(`no ${engine.name} migration named *${suffix}`);
  const older = migrations.filter((m) => m.version < target.version);
  if (engine.name === 'sqlite') {
    const raw = new Database(db.database);
    raw.exec('CREATE TABLE herald_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    for (const m of older) {
      raw.exec(m.sql);
      raw.prepare("INSERT INTO herald_migrations VALUES (?, ?, 'then')").run(m.version, m.name);
    }
    raw.close();
    return target.version;
  }
  const client = new pg.Client({ connectionString: db.database });
  await client.connect();
  await client.query(
    'CREATE TABLE herald_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  for (const m of older) {
    await client.query(m.sql);
    await client.query('INSERT INTO herald_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
  }
  await client.end();
  return target.version;
}
