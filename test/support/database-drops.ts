import pg from 'pg';

/**
 * Dropping a PostgreSQL database forces an immediate checkpoint (PostgreSQL 15 does, so that the checkpointer
 * forgets the dropped files), which flushes every dirty page of every other test's database and waits for it:
 * 0.1 to 1 s each while other tests write. Dropped one by one after each test, that was more than half of the
 * PostgreSQL tests' time. Checkpoints requested together are shared, so the databases a test file made are
 * dropped together, several at once, when the file ends; what a file left (a killed worker) goes at the run's
 * end. Test databases are named for their run, so a run only ever drops its own.
 */

/** The prefix of every test database; then the run's tag, then the database's own suffix. */
export const testDatabasePrefix = 'herald_test_';

/** A run's tag: when it started, in seconds (base 36), so a later run can tell another's leftovers by age. */
export function runTag(startedAt: number): string {
  return `${testDatabasePrefix}${Math.floor(startedAt / 1000).toString(36)}`;
}

/** When a run that made a database began, from its name, or undefined if the name is not a run's. */
export function runStartedAt(database: string): number | undefined {
  const match = new RegExp(`^${testDatabasePrefix}([0-9a-z]+)_[0-9a-f]+$`).exec(database);
  return match ? parseInt(match[1] as string, 36) * 1000 : undefined;
}

/** Drops `names`, `connections` at a time, so their checkpoints are shared. Failures are left to the next sweep. */
export async function dropDatabases(adminUrl: string, names: readonly string[], connections = 8): Promise<void> {
  const queue = [...names];
  await Promise.all(
    Array.from({ length: Math.min(connections, queue.length) }, async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
          await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
        }
      } finally {
        await client.end();
      }
    }),
  );
}

/** The test databases on the server whose names start with `prefix`. */
export async function testDatabases(adminUrl: string, prefix = testDatabasePrefix): Promise<string[]> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, [prefix]);
    return rows.map((row) => row.datname);
  } finally {
    await client.end();
  }
}

const finished: string[] = [];

/** Marks a test's database for dropping when its file ends (see `dropFinishedDatabases`). */
export function dropLater(name: string): void {
  finished.push(name);
}

/** Drops the databases of this file's finished tests; registered after every test file (vitest's setupFiles). */
export async function dropFinishedDatabases(adminUrl: string | null): Promise<void> {
  if (adminUrl === null || finished.length === 0) return;
  await dropDatabases(adminUrl, finished.splice(0));
}
