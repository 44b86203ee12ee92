import type Database from 'better-sqlite3';
import { latestVersion, readMigrations } from '../migration-files.js';
import { SchemaTooNewError } from '../store.js';

/** Applies every migration the database lacks, each in its own transaction. */
export function migrateSqlite(db: Database.Database): void {
  const migrations = readMigrations('sqlite');
  db.exec(`CREATE TABLE IF NOT EXISTS herald_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const current =
    (db.prepare('SELECT max(version) AS v FROM herald_migrations').get() as { v: number | null }).v ?? 0;
  if (current > latestVersion(migrations)) throw new SchemaTooNewError(current, latestVersion(migrations));
  const record = db.prepare('INSERT INTO herald_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const migration of migrations.filter((m) => m.version > current)) {
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, new Date().toISOString());
    }).immediate();
  }
}
