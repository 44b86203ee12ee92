import type Database from 'better-sqlite3';
import { readMigrations } from '../migration-files.js';
import { migrate, type MigrationRun, type MigrationTarget } from '../migrator.js';

/**
 * SQLite's side of the migration runner. Nothing holds other connections off between migrations; instead
 * each one is applied in an IMMEDIATE transaction (the database's single write lock) that first looks
 * whether another connection recorded it meanwhile.
 */
export function sqliteMigrationTarget(db: Database.Database): MigrationTarget {
  return {
    exclusively: (work) => work(),
    async recordedVersion() {
      db.exec(`CREATE TABLE IF NOT EXISTS herald_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
      return (db.prepare('SELECT max(version) AS v FROM herald_migrations').get() as { v: number | null }).v ?? 0;
    },
    async apply(migration) {
      db.transaction(() => {
        if (db.prepare('SELECT 1 FROM herald_migrations WHERE version = ?').get(migration.version)) return;
        db.exec(migration.sql);
        db.prepare('INSERT INTO herald_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
          migration.version,
          migration.name,
          new Date().toISOString(),
        );
      }).immediate();
    },
  };
}

/** Applies every SQLite migration the database lacks (see `migrate`). */
export function migrateSqlite(db: Database.Database): Promise<MigrationRun> {
  return migrate(sqliteMigrationTarget(db), readMigrations('sqlite'));
}
