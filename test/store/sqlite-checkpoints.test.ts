import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Checkpoints } from '../../src/store/sqlite/checkpoints.js';
import { SqliteConnections } from '../../src/store/sqlite/sqlite-connections.js';

/** A log this test counts as long: the store's own limit is 64 MiB. */
const longLog = 100;

describe('SQLite checkpoints', () => {
  let dir: string;
  let path: string;
  let connections: SqliteConnections;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-checkpoints-'));
    path = join(dir, 'herald.db');
    const setup = new Database(path);
    setup.pragma('journal_mode = WAL');
    setup.exec('CREATE TABLE pages (body BLOB NOT NULL)');
    setup.close();
    connections = await SqliteConnections.open(path, 0, true);
  });

  afterEach(async () => {
    await connections.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Commits about `pages` pages to the log, through the writer (which never checkpoints itself). */
  const write = async (pages: number) => {
    for (let i = 0; i < pages; i++) {
      await connections.write({ op: 'all', sql: 'INSERT INTO pages (body) VALUES (randomblob(3000))', parameters: {} });
    }
  };

  it('copies a short log without starting it over', async () => {
    await write(10);
    const step = await new Checkpoints(connections, longLog).step();
    expect(step.restarts).toBe(false);
    expect(step.log).toBeGreaterThan(0);
  });

  it('makes a long log start over once readers leave it, even though every page was already copied', async () => {
    const checkpoints = new Checkpoints(connections, longLog);
    await write(150);
    // A reader in the middle of a read, as the dispatcher's and polls' nearly always are under traffic.
    const reader = new Database(path, { readonly: true });
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM pages').get();

    const heldOpen = await checkpoints.step();
    expect(heldOpen.log).toBeGreaterThan(longLog);
    // It gave up waiting for the reader rather than holding the writer off: the log is as long as before.
    expect(heldOpen.restarts).toBe(false);
    await write(1);
    expect((await checkpoints.step()).log).toBeGreaterThan(heldOpen.log);

    reader.exec('COMMIT');
    reader.close();
    expect((await checkpoints.step()).restarts).toBe(true);
    await write(1);
    // The next commit wrote at the start of the log again.
    const after = await checkpoints.step();
    expect(after.log).toBeLessThan(10);
  });
});
