import { databaseHosts, type DatabaseHost, isPostgresUrl } from './database-url.js';
import { isMissingDatabase } from './postgres/errors.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** PostgreSQL: connections the pool may open (HERALD_DATABASE_POOL_SIZE). */
  readonly poolSize?: number;
  /** PostgreSQL: how long a publish waits for its commit to be acknowledged (HERALD_COMMIT_TIMEOUT). */
  readonly commitTimeoutMs?: number;
  /** SQLite: reader threads (HERALD_SQLITE_READERS). */
  readonly sqliteReaders?: number;
}

/**
 * Opens the engine `database` names (a `postgres://` URL, or a SQLite file path) and migrates it.
 * @example await openStore('./data/herald.db')
 */
export async function openStore(database: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (!isPostgresUrl(database)) return SqliteStore.open(database, { readers: options.sqliteReaders });
  try {
    return await PostgresStore.open({ connectionString: database, maxConnections: options.poolSize, commitTimeoutMs: options.commitTimeoutMs });
  } catch (error) {
    if (isMissingDatabase(error)) throw noSuchDatabase(database, error);
    throw error;
  }
}

/** Names the database and the server, never the URL's password, and says what to do. */
function noSuchDatabase(database: string, cause: unknown): Error {
  const hosts = databaseHosts(database).hosts;
  const url = new URL((hosts[0] as DatabaseHost).url);
  const name = decodeURIComponent(url.pathname.slice(1));
  return new Error(
    `The PostgreSQL database '${name}' does not exist on ${hosts.map((h) => h.address).join(', ')} (HERALD_DATABASE): create it ` +
      `(CREATE DATABASE "${name}") or point HERALD_DATABASE at an existing database; Herald creates its tables itself.`,
    { cause },
  );
}
