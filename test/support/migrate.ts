import Database from 'better-sqlite3';
import pg from 'pg';
import type { Migration } from '../../src/store/migration-files.js';
import { migrate, type MigrationRun } from '../../src/store/migrator.js';
import { postgresMigrationTarget } from '../../src/store/postgres/migration-target.js';
import { sqliteMigrationTarget } from '../../src/store/sqlite/migration-target.js';

/**
 * Runs Herald's migration runner with just `migrations` on `database` (a SQLite path or a postgres:// URL),
 * on a connection of its own: an older Herald's schema, or migrations a test makes up.
 */
export async function applyMigrations(
  engine: 'sqlite' | 'postgres',
  database: string,
  migrations: readonly Migration[],
): Promise<MigrationRun> {
  if (engine === 'sqlite') {
    const raw = new Database(database);
    try {
      return await migrate(sqliteMigrationTarget(raw), migrations);
    } finally {
      raw.close();
    }
  }
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  try {
    return await migrate(postgresMigrationTarget(client), migrations);
  } finally {
    await client.end();
  }
}
