import type pg from 'pg';
import { readMigrations } from '../migration-files.js';
import { migrate, type MigrationRun, type MigrationTarget } from '../migrator.js';

/** The advisory lock key that lets one process migrate at a time (the append lock is 4_841_001). */
const migrationLockKey = 4_841_002;

/**
 * PostgreSQL's side of the migration runner, on one connection: a session-level advisory lock keeps other
 * processes waiting until this one has migrated, and each migration is its own transaction.
 */
export function postgresMigrationTarget(client: pg.ClientBase): MigrationTarget {
  return {
    async exclusively(work) {
      await client.query('SELECT pg_advisory_lock($1)', [migrationLockKey]);
      try {
        return await work();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [migrationLockKey]).catch(() => {});
      }
    },
    async recordedVersion() {
      await client.query(`CREATE TABLE IF NOT EXISTS herald_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM herald_migrations');
      return rows[0]?.v ?? 0;
    },
    async apply(migration) {
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO herald_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    },
  };
}

/** Applies every PostgreSQL migration the database lacks (see `migrate`), on a connection of `pool`. */
export async function migratePostgres(pool: pg.Pool): Promise<MigrationRun> {
  const client = await pool.connect();
  try {
    return await migrate(postgresMigrationTarget(client), readMigrations('postgres'));
  } finally {
    client.release();
  }
}
