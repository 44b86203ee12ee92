import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** A fresh database for one scenario, removed afterwards. */
export interface BenchDatabase {
  readonly database: string;
  drop(): Promise<void>;
}

export interface BenchEngine {
  readonly name: 'sqlite' | 'postgres';
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
