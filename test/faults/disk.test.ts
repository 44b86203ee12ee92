import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { assembleHerald, sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';

/** A small filesystem of its own, so the disk can really fill up (root ignores file permissions). */
function mountTinyFilesystem(): string | undefined {
  const folder = mkdtempSync(join(tmpdir(), 'herald-tinyfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', folder], { stdio: 'ignore' });
    return folder;
  } catch {
    rmSync(folder, { recursive: true, force: true });
    return undefined;
  }
}

const folder = mountTinyFilesystem();
if (!folder) console.warn('!! The disk tests are SKIPPED: this machine cannot mount a small tmpfs (needs root).');

describe.skipIf(!folder)('SQLite on a full or read-only disk', () => {
  afterAll(() => {
    if (!folder) return;
    execFileSync('umount', [folder], { stdio: 'ignore' });
    rmSync(folder, { recursive: true, force: true });
  });

  describe('a disk that fills up', () => {
    const path = `${folder}/full/herald.db`;
    const acknowledged: string[] = [];
    let statuses: number[] = [];

    beforeAll(async () => {
      const store = await SqliteStore.open(path);
      const herald = await assembleHerald(store);
      const headers = { authorization: `Bearer ${await testToken()}`, 'content-type': 'application/cloudevents-batch+json' };
      for (let i = 0; i < 200 && !statuses.includes(503); i++) {
        const ids = Array.from({ length: 20 }, (_, k) => `full-${i}-${k}`);
        const response = await herald.app.inject({
          method: 'POST',
          url: '/events/api/v1/events',
          headers,
          payload: JSON.stringify(ids.map((id) => sampleEvent({ id, data: { padding: 'x'.repeat(2_000) } }))),
        });
        statuses.push(response.statusCode);
        if (response.statusCode === 200) acknowledged.push(...ids);
      }
      statuses = [...new Set(statuses)];
      await herald.close();
      await store.close();
    });

    it('answers 503 once the disk is full, never 500, and keeps every event it acknowledged, uncorrupted', () => {
      expect(statuses).toContain(503);
      expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
      expect(acknowledged.length).toBeGreaterThan(0);
      const db = new Database(path, { readonly: true });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const stored = new Set((db.prepare('SELECT id FROM events').all() as { id: string }[]).map((row) => row.id));
      db.close();
      expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
    });
  });

  it('refuses to start on a read-only data folder with a clear error', async () => {
    rmSync(`${folder}/full`, { recursive: true, force: true }); // room again, from the test above
    const path = `${folder}/readonly/herald.db`;
    await (await SqliteStore.open(path)).close();
    execFileSync('mount', ['-o', 'remount,ro', folder as string], { stdio: 'ignore' });
    try {
      rmSync(`${path}-wal`, { force: true });
      await expect(SqliteStore.open(`${folder}/readonly/other.db`)).rejects.toThrow(/Cannot (open|write) the SQLite database/);
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', folder as string], { stdio: 'ignore' });
    }
  });
});
