import type { HeraldConfig } from '../config/config.js';
import { openStore } from '../store/open-store.js';

/** `herald migrate`: brings the database schema up to date (serve does the same at start). */
export async function migrate(config: HeraldConfig): Promise<string> {
  const store = await openStore(config.database);
  await store.close();
  return `The ${store.engine} database is up to date.`;
}
