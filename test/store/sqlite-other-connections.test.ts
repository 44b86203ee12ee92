import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { StoreTopic } from '../../src/store/store.js';

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('SQLite: writes by another process are announced', () => {
  let folder: string;
  let path: string;
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'herald-other-'));
    path = join(folder, 'herald.db');
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  it("announces another connection's commit (an operator command) to the watching server", async () => {
    const server = await SqliteStore.open(path);
    const heard: StoreTopic[] = [];
    const stop = server.watch((topic) => heard.push(topic));
    const operator = new Database(path);
    operator.prepare('CREATE TABLE IF NOT EXISTS scratch (x)').run();
    await waitFor(() => heard.includes('subscriptions') && heard.includes('deliveries'));
    stop();
    operator.close();
    await server.close();
  });

  it("does not announce its own writes twice, and stops looking when nobody listens", async () => {
    const server = await SqliteStore.open(path);
    const heard: StoreTopic[] = [];
    const stop = server.watch((topic) => heard.push(topic));
    await server.pull.key('checkpoint', 'a-key');
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(heard).toEqual([]);
    stop();
    const operator = new Database(path);
    operator.prepare('CREATE TABLE scratch (x)').run();
    operator.close();
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(heard).toEqual([]);
    await server.close();
  });
});
