import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, inject, it } from 'vitest';
import { PostgresStore, type PostgresStoreOptions } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { dropLater } from './database-drops.js';
import type { Store } from '../../src/store/store.js';

/** A database of one engine, made for one test and removed after it. */
export interface TestDatabase {
  /** What `HERALD_DATABASE` would hold: a file path or a postgres:// URL. */
  readonly database: string;
  /** Opens (and migrates) a store on it; call again for a second "process". */
  open(options?: Partial<PostgresStoreOptions>): Promise<Store>;
  /** Closes every store opened and deletes the database. */
  destroy(): Promise<void>;
}

export interface Engine {
  readonly name: 'sqlite' | 'postgres';
  /** False when the engine cannot run here (no PostgreSQL): its tests are skipped, loudly. */
  readonly available: boolean;
  create(): Promise<TestDatabase>;
}

const sqlite: Engine = {
  name: 'sqlite',
  available: true,
  async create() {
    const folder = mkdtempSync(join(tmpdir(), 'herald-test-'));
    const database = join(folder, 'herald.db');
    const stores: Store[] = [];
    return {
      database,
      async open() {
        const store = await SqliteStore.open(database);
        stores.push(store);
        return store;
      },
      async destroy() {
        for (const store of stores) await store.close();
        rmSync(folder, { recursive: true, force: true });
      },
    };
  },
};

function postgres(adminUrl: string | null): Engine {
  return {
    name: 'postgres',
    available: adminUrl !== null,
    async create() {
      if (adminUrl === null) throw new Error('PostgreSQL is not reachable');
      // A fresh database per test keeps tests independent and lets them run in parallel.
      const name = `${inject('postgresRunTag')}_${randomBytes(6).toString('hex')}`;
      await withAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE ${name}`));
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      const database = url.toString();
      const stores: Store[] = [];
      return {
        database,
        async open(options) {
          const store = await PostgresStore.open({ connectionString: database, ...options });
          stores.push(store);
          return store;
        },
        async destroy() {
          for (const store of stores) await store.close().catch(() => {});
          dropLater(name);
        },
      };
    },
  };
}

async function withAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Both engines; loop over them with `describe.each(engines)` and skip the unavailable ones. */
export const engines: readonly Engine[] = [sqlite, postgres(inject('postgresUrl'))];

export const postgresEngine = engines[1] as Engine;

/**
 * Runs a suite once per engine. An engine that cannot run here shows up as a skipped test with its reason,
 * never as a pass.
 */
export function describeEachEngine(title: string, suite: (engine: Engine) => void): void {
  describe.each(engines)(title, (engine) => {
    if (!skippedIfUnavailable(engine)) suite(engine);
  });
}

/**
 * Inside a `describe` for `engine`: when the engine cannot run here, registers a skipped test that says why
 * (never a pass) and answers true, so the caller registers nothing else.
 */
export function skippedIfUnavailable(engine: Engine): boolean {
  if (engine.available) return false;
  it.skip(`SKIPPED: ${engine.name} is not reachable (set HERALD_TEST_POSTGRES_URL)`, () => {});
  return true;
}
