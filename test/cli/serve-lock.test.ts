import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseInUseError, holdServeLock } from '../../src/store/sqlite/process-lock.js';
import { freePort, startHeraldProcess } from '../support/herald-process.js';
import { testSecret } from '../support/tokens.js';

const run = promisify(execFile);

describe('one herald serve per SQLite database', () => {
  let folder: string;
  let database: string;
  const children: ChildProcess[] = [];
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'herald-lock-'));
    database = join(folder, 'data', 'herald.db');
  });
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    rmSync(folder, { recursive: true, force: true });
  });

  /** A second `herald serve` on the same file, as an operator might start by mistake. */
  const secondServe = async () =>
    run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
      env: { ...process.env, HERALD_DATABASE: database, HERALD_JWT_SECRET: testSecret, PORT: String(await freePort()) },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );

  it('a second process on the same file stops at start, naming the pid of the one serving', async () => {
    const first = await startHeraldProcess(database);
    children.push(first.child);
    const second = await secondServe();
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`Another Herald process (pid ${first.child.pid} on `);
    expect(second.stderr).toContain(`already serves the SQLite database ${database}`);
    // The first is untouched.
    expect((await fetch(`${first.base}/ready`)).status).toBe(200);
  });

  it('the lock dies with its process: after SIGKILL the next serve starts without any cleanup', async () => {
    const first = await startHeraldProcess(database);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    const next = await startHeraldProcess(database);
    children.push(next.child);
    expect((await fetch(`${next.base}/ready`)).status).toBe(200);
  });

  it('within one process: held until released, then free for the next holder', () => {
    const lock = holdServeLock(database);
    // A second holder in this process is refused too: SQLite keeps its locks per file, not per process.
    expect(() => holdServeLock(database)).toThrow(DatabaseInUseError);
    lock.release();
    holdServeLock(database).release();
  });
});
