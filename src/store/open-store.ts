import { isPostgresUrl } from './database-url.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** PostgreSQL: connections the pool may open (HERALD_DATABASE_POOL_SIZE). */
  readonly poolSize?: number;
}

/**
 * Opens the engine `database` names (a `postgres://` URL, or a SQLite file path) and migrates it.
 * @example await openStore('./data/herald.db')
 */
export async function openStore(database: string, options: OpenStoreOptions = {}): Promise<Store> {
  return isPostgresUrl(database)
    ? PostgresStore.open({ connectionString: database, maxConnections: options.poolSize })
    : SqliteStore.open(database);
}
