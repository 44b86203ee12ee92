import { afterEach, beforeEach, expect, it } from 'vitest';
import { latestVersion, readMigrations } from '../../src/store/migration-files.js';
import { openStore } from '../../src/store/open-store.js';
import { SchemaTooNewError } from '../../src/store/store.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { executeRaw } from '../support/raw-sql.js';

describeEachEngine('Migrations on $name', (engine) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await engine.create();
  });
  afterEach(async () => {
    await db.destroy();
  });

  const execute = (sql: string) => executeRaw(engine.name, db.database, sql);

  it('records every numbered migration once, however many processes start together', async () => {
    const stores = await Promise.all([
      openStore(db.database),
      openStore(db.database),
      openStore(db.database),
    ]);
    for (const store of stores) await store.close();
    const store = await db.open();
    await store.ping();
    expect(latestVersion(readMigrations(engine.name))).toBeGreaterThanOrEqual(1);
  });

  it('refuses a database whose schema is newer than this code, with a clear error', async () => {
    const store = await db.open();
    await store.close();
    await execute(
      engine.name === 'sqlite'
        ? "INSERT INTO herald_migrations (version, name, applied_at) VALUES (999, '999_future', 'now')"
        : "INSERT INTO herald_migrations (version, name) VALUES (999, '999_future')",
    );
    const opening = openStore(db.database);
    await expect(opening).rejects.toBeInstanceOf(SchemaTooNewError);
    await expect(opening).rejects.toThrow(/version 999/);
  });

  it('rolls back a migration that fails, leaving the version unrecorded', async () => {
    await execute('CREATE TABLE events (clash integer)');
    await expect(openStore(db.database)).rejects.toThrow();
    await execute('DROP TABLE events');
    const store = await db.open();
    await store.ping();
    expect(await store.headPosition()).toBe(0);
  });
});
