import { existsSync } from 'node:fs';
import type { HeraldConfig } from '../config/config.js';
import { isPostgresUrl } from '../store/database-url.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { notFound } from './command-error.js';

/**
 * Opens the database an operator command acts on. A SQLite path that names no file is refused rather than
 * created: a mistyped HERALD_DATABASE would otherwise show an empty, brand-new Herald.
 */
export async function openOperatorStore(config: HeraldConfig): Promise<Store> {
  if (!isPostgresUrl(config.database) && config.database !== ':memory:' && !existsSync(config.database)) {
    throw notFound(`No Herald database at ${config.database}: check HERALD_DATABASE.`);
  }
  return openStore(config.database);
}

/** Runs `work` on the operator's store and closes it, whatever happens. */
export async function withOperatorStore<T>(config: HeraldConfig, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openOperatorStore(config);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
