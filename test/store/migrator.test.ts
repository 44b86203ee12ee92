import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Migration } from '../../src/store/migration-files.js';
import { SchemaTooNewError } from '../../src/store/store.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { applyMigrations } from '../support/migrate.js';
import { rawSql } from './retention-harness.js';

/** Made-up migrations, so the runner's behaviour is seen apart from Herald's schema. */
const first: Migration = { version: 1, name: '001_first', sql: 'CREATE TABLE first_table (x integer)' };
const second: Migration = { version: 2, name: '002_second', sql: 'CREATE TABLE second_table (x integer)' };
const third: Migration = { version: 3, name: '003_third', sql: 'CREATE TABLE third_table (x integer)' };
/** Its first statement succeeds and its second fails: the transaction must take back both. */
const failing: Migration = {
  version: 2,
  name: '002_failing',
  sql: 'CREATE TABLE half_done (x integer); INSERT INTO no_such_table VALUES (1);',
};

describeEachEngine('The migration runner on $name', (engine) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await engine.create();
  });
  afterEach(async () => {
    await db.destroy();
  });

  const run = (migrations: readonly Migration[]) => applyMigrations(engine.name, db.database, migrations);
  const recorded = async () =>
    (await rawSql<{ version: number }>(engine, db.database, 'SELECT version FROM herald_migrations ORDER BY version')).map((r) =>
      Number(r.version),
    );
  const tableExists = async (name: string) => {
    const sql =
      engine.name === 'sqlite'
        ? "SELECT name FROM sqlite_schema WHERE type = 'table' AND name = $1"
        : 'SELECT tablename AS name FROM pg_tables WHERE tablename = $1';
    return (await rawSql(engine, db.database, sql, [name])).length === 1;
  };

  it('applies the missing migrations in order and records each, and a second run applies none', async () => {
    expect(await run([first, second])).toEqual({ from: 0, to: 2 });
    expect(await run([first, second, third])).toEqual({ from: 2, to: 3 });
    expect(await run([first, second, third])).toEqual({ from: 3, to: 3 });
    expect(await recorded()).toEqual([1, 2, 3]);
    expect(await tableExists('third_table')).toBe(true);
  });

  it('refuses a database recorded at a newer version before applying anything', async () => {
    await run([first, second]);
    const older = run([first]);
    await expect(older).rejects.toBeInstanceOf(SchemaTooNewError);
    await expect(older).rejects.toThrow(/version 2, but this Herald knows versions up to 1/);
    expect(await recorded()).toEqual([1, 2]);
  });

  it('stops at a failing migration: the ones before it stay, it leaves nothing, the later ones wait', async () => {
    await expect(run([first, failing, third])).rejects.toThrow();
    expect(await recorded()).toEqual([1]);
    expect(await tableExists('first_table')).toBe(true);
    expect(await tableExists('half_done')).toBe(false);
    expect(await tableExists('third_table')).toBe(false);
    expect(await run([first, second, third])).toEqual({ from: 1, to: 3 });
  });

  it('applies each migration once when several connections migrate at the same moment', async () => {
    await Promise.all([run([first, second, third]), run([first, second, third]), run([first, second, third])]);
    expect(await recorded()).toEqual([1, 2, 3]);
  });
});
