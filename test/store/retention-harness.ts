import Database from 'better-sqlite3';
import pg from 'pg';
import { Retention } from '../../src/delivery/retention.js';
import type { Engine } from '../support/engines.js';
import type { TestApp } from '../support/test-app.js';

export const dayMs = 86_400_000;
export const hourMs = 3_600_000;

/** Herald's retention loop on the test app's clock, with the default periods. */
export function retentionOf(herald: TestApp, eventsMs = 90 * dayMs, deliveriesMs = 30 * dayMs): Retention {
  return new Retention({ store: herald.store, eventsMs, deliveriesMs, clock: herald.clock.now });
}

/**
 * Runs SQL on the test database beside Herald, to look at what is stored (and, where a test says so, to set a
 * delivery's state as the dispatcher would). Statements use `$n` placeholders on both engines.
 */
export async function rawSql<T = Record<string, unknown>>(
  engine: Engine,
  database: string,
  sql: string,
  parameters: readonly unknown[] = [],
): Promise<T[]> {
  if (engine.name === 'sqlite') {
    const db = new Database(database);
    try {
      // Each `$n` is used once and in order in these tests' statements.
      const statement = db.prepare(sql.replace(/\$\d+/g, '?'));
      return statement.reader ? (statement.all(...parameters) as T[]) : (statement.run(...parameters), []);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  try {
    return (await client.query({ text: sql, values: parameters as unknown[] })).rows as T[];
  } finally {
    await client.end();
  }
}

/** How many rows a table holds. */
export async function countRows(engine: Engine, database: string, table: string): Promise<number> {
  const [row] = await rawSql<{ n: number | string }>(engine, database, `SELECT count(*) AS n FROM ${table}`);
  return Number(row?.n ?? 0);
}
