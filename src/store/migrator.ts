import { latestVersion, type Migration } from './migration-files.js';
import { SchemaTooNewError } from './store.js';

/**
 * The little the migration runner needs of an engine. The runner decides what to apply and in which order;
 * the engine knows how to record a version and how to keep other processes out meanwhile.
 */
export interface MigrationTarget {
  /**
   * Runs `work` while no other process migrates the same database: PostgreSQL holds an advisory lock for the
   * whole run, so processes that start together migrate one after the other.
   */
  exclusively<T>(work: () => Promise<T>): Promise<T>;
  /** The highest version recorded in `herald_migrations` (0 for none), creating that table if it is missing. */
  recordedVersion(): Promise<number>;
  /** Runs one migration's SQL and records its version in the same transaction: both happen, or neither. */
  apply(migration: Migration): Promise<void>;
}

/** What a run found and did. */
export interface MigrationRun {
  /** The version recorded before the run. */
  readonly from: number;
  /** The version recorded after it. */
  readonly to: number;
}

/**
 * Brings a database up to the newest of `migrations`, applying each missing one in its own transaction, in
 * order. A database recorded at a version newer than any of `migrations` is refused (`SchemaTooNewError`)
 * before anything is written, so an older Herald never writes to a schema it does not understand. A failing
 * migration stops the run: the ones before it stay applied, it and the later ones are not recorded.
 * @example await migrate(sqliteMigrationTarget(db), readMigrations('sqlite'))
 */
export function migrate(target: MigrationTarget, migrations: readonly Migration[]): Promise<MigrationRun> {
  return target.exclusively(async () => {
    const from = await target.recordedVersion();
    const latest = latestVersion(migrations);
    if (from > latest) throw new SchemaTooNewError(from, latest);
    for (const migration of migrations) {
      if (migration.version > from) await target.apply(migration);
    }
    return { from, to: latest };
  });
}
