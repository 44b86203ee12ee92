import Database from 'better-sqlite3';
import pg from 'pg';

/** Runs SQL (one statement or several) on a test database outside Herald, on a connection of its own. */
export async function executeRaw(engine: 'sqlite' | 'postgres', database: string, sql: string): Promise<void> {
  if (engine === 'sqlite') {
    const raw = new Database(database);
    try {
      raw.exec(sql);
    } finally {
      raw.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
