import { isPostgresUrl } from './database-url.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

/**
 * Opens the engine `database` names (a `postgres://` URL, or a SQLite file path) and migrates it.
 * @example await openStore('./data/herald.db')
 */
export async function openStore(database: string): Promise<Store> {
  return isPostgresUrl(database)
    ? PostgresStore.open({ connectionString: database })
    : SqliteStore.open(database);
}
