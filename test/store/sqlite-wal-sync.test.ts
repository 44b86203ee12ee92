import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { WalSync } from '../../src/store/sqlite/wal-sync.js';
import { validEvent } from '../support/test-app.js';

/** A flush that waits until the test lets it finish, and counts itself. */
function gatedFlush() {
  const waiting: (() => void)[] = [];
  let calls = 0;
  return {
    flush: (_fd: number) =>
      new Promise<void>((resolve) => {
        calls++;
        waiting.push(resolve);
      }),
    release: () => waiting.splice(0).forEach((resolve) => resolve()),
    get calls() {
      return calls;
    },
  };
}

const settled = async (promise: Promise<unknown>) => {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('SQLite durability without blocking the event loop', () => {
  let folder: string;
  let path: string;
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'herald-wal-'));
    path = join(folder, 'herald.db');
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  it('answers a publish only after the write-ahead log is flushed', async () => {
    const gate = gatedFlush();
    const store = await SqliteStore.open(path, { fileSync: gate.flush });
    const publish = store.appendEvents([validEvent({ id: 'a' })]);
    expect(await settled(publish)).toBe(false);
    expect(gate.calls).toBe(1);
    gate.release();
    expect(await publish).toEqual([true]);
    await store.close();
  });

  it('answers every other write (a subscription, a lease) only after the flush too', async () => {
    const gate = gatedFlush();
    const store = await SqliteStore.open(path, { fileSync: gate.flush });
    const created = store.subscriptions.create({
      consumer: '/org/ttd',
      endpoint: null,
      sourceFilter: null,
      resourceFilter: 'urn:altinn:resource:a',
      subjectFilter: null,
      alternativeSubjectFilter: null,
      typeFilter: null,
      createdBy: '/org/ttd',
      secret: 'whsec_x',
      identity: 'x',
      status: 'active',
      nextValidationAt: null,
      validatedAt: Date.now(),
      now: Date.now(),
    });
    expect(await settled(created)).toBe(false);
    gate.release();
    await created;
    // Reads do not wait for a flush.
    const head = store.headPosition();
    expect(await settled(head)).toBe(true);
    await store.close();
  });

  it('fails the publish when the flush fails (the client retries; publishing is idempotent)', async () => {
    let fail = false;
    const store = await SqliteStore.open(path, {
      fileSync: async () => {
        if (fail) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      },
    });
    await store.appendEvents([validEvent({ id: 'a' })]);
    fail = true;
    await expect(store.appendEvents([validEvent({ id: 'b' })])).rejects.toThrow(/EIO/);
    fail = false;
    expect(await store.appendEvents([validEvent({ id: 'b' })])).toEqual([false]);
    await store.close();
  });
});

describe('WalSync', () => {
  let folder: string;
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'herald-walsync-'));
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  it('shares flushes: callers during a flush wait for exactly one more', async () => {
    const file = join(folder, 'x.db-wal');
    const db = new Database(join(folder, 'x.db'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x)');
    const gate = gatedFlush();
    const sync = new WalSync(file, gate.flush);
    const first = sync.sync();
    await settled(first);
    expect(gate.calls).toBe(1);
    const during = Array.from({ length: 20 }, () => sync.sync());
    expect(await settled(Promise.all(during))).toBe(false);
    gate.release();
    await first;
    // The twenty callers that came while the first flush ran share one more: their writes may postdate it.
    await settled(during[0] as Promise<void>);
    expect(gate.calls).toBe(2);
    expect(await settled(Promise.all(during))).toBe(false);
    gate.release();
    await Promise.all(during);
    expect(gate.calls).toBe(2);
    sync.close();
    db.close();
  });

  it('flushes for real with fdatasync by default', async () => {
    const db = new Database(join(folder, 'y.db'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x)');
    const sync = new WalSync(join(folder, 'y.db-wal'));
    await sync.sync();
    await Promise.all([sync.sync(), sync.sync(), sync.sync()]);
    sync.close();
    db.close();
  });
});
