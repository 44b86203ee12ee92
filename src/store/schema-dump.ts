import Database from 'better-sqlite3';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { isPostgresUrl } from './database-url.js';
import { dumpPostgresSchema } from './postgres/schema-dump.js';
import { dumpSqliteSchema } from './sqlite/schema-dump.js';

export type SchemaEngine = 'sqlite' | 'postgres';

/**
 * Where an engine's committed schema dump lives (`src/store/<engine>/schema.sql`), resolved from the package
 * root as the migrations are. `npm run schema:dump` writes it; a test compares it with a fresh database.
 */
export function committedSchemaPath(engine: SchemaEngine): string {
  return fileURLToPath(new URL(`../../src/store/${engine}/schema.sql`, import.meta.url));
}

/**
 * The schema dump of the database `database` names (a SQLite file path or a `postgres://` URL), read
 * without changing it.
 * @example await dumpSchema('./data/herald.db')
 */
export async function dumpSchema(database: string): Promise<string> {
  if (!isPostgresUrl(database)) {
    const db = new Database(database, { readonly: true, fileMustExist: true });
    try {
      return dumpSqliteSchema(db);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  try {
    return await dumpPostgresSchema(client);
  } finally {
    await client.end();
  }
}
