import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { clusterUnavailable, PostgresCluster } from '../test/support/postgres-cluster.js';

/** A fresh database for one scenario, removed afterwards. */
export interface BenchDatabase {
  readonly database: string;
  drop(): Promise<void>;
}

export interface BenchEngine {
  /** `postgres-sync`: PostgreSQL with a synchronous standby, Herald given both hosts (docs/high-availability.md). */
  readonly name: 'sqlite' | 'postgres' | 'postgres-sync';
  create(): Promise<BenchDatabase>;
}

export const sqliteEngine: BenchEngine = {
  name: 'sqlite',
  async create() {
    // A real file on the real disk, durable as Herald always is: nothing is answered before the write-ahead
    // log holding it is flushed (docs/storage.md).
    const folder = mkdtempSync(join(tmpdir(), 'herald-bench-'));
    return { database: join(folder, 'herald.db'), drop: async () => rmSync(folder, { recursive: true, force: true }) };
  },
};

export function postgresEngine(adminUrl: string): BenchEngine {
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(sql);
    await client.end();
  };
  return {
    name: 'postgres',
    async create() {
      const name = `herald_bench_${randomBytes(4).toString('hex')}`;
      await admin(`CREATE DATABASE ${name}`);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return { database: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
    },
  };
}

/**
 * A primary and a synchronous standby built for each scenario on this machine (test/support/postgres-cluster.ts),
 * durable (fsync on) as the single server is; Herald is given both hosts, as in production. Every commit
 * waits for the standby's flush: the figures beside `postgres` are the price of a `200` on two servers.
 */
export const postgresSyncEngine: BenchEngine = {
  name: 'postgres-sync',
  async create() {
    const cluster = await PostgresCluster.start({ durable: true, database: 'herald_bench' });
    return { database: cluster.url(), drop: () => cluster.destroy() };
  },
};

/** Why `postgres-sync` cannot run here (no PostgreSQL 15 server programs, not root), or undefined. */
export function postgresSyncUnavailable(): string | undefined {
  return clusterUnavailable();
}
