import { execFile } from 'node:child_process';
import { get } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresEngine, type TestDatabase } from '../support/engines.js';
import { restartDelayMs, workerCount } from '../../src/cli/workers.js';
import { freePort } from '../support/herald-process.js';
import { alive, type LogLine, serveWorkers } from '../support/herald-workers.js';
import { testSecret } from '../support/tokens.js';

const run = promisify(execFile);
const cli = ['--import', 'tsx', 'src/cli/main.ts'];

/** A request on a connection of its own: the cluster hands each new connection to the next worker. */
function healthOnNewConnection(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/health', agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    }).on('error', reject);
  });
}

describe('herald serve --workers on PostgreSQL', () => {
  if (!postgresEngine.available) {
    it.skip('SKIPPED: PostgreSQL is not reachable (set HERALD_TEST_POSTGRES_URL)', () => {});
    return;
  }
  let db: TestDatabase;
  let herald: ReturnType<typeof serveWorkers>;
  let port: number;
  beforeAll(async () => {
    db = await postgresEngine.create();
    port = await freePort();
    herald = serveWorkers('2', { HERALD_DATABASE: db.database, PORT: String(port) });
  });
  afterAll(async () => {
    if (herald.child.exitCode === null) herald.child.kill('SIGKILL');
    for (const line of herald.lines) if (line.workerPid && alive(line.workerPid)) process.kill(line.workerPid, 'SIGKILL');
    await db.destroy();
  });

  it('forks two workers that both serve requests on the one port, and a worker killed is replaced while the port keeps answering', async () => {
    const serving = (line: LogLine) => line.role === 'primary' && line.msg === 'worker serving';
    const first = await herald.logged(serving);
    const second = await herald.logged((line) => serving(line) && line.workerPid !== first.workerPid);
    const workers = [first.workerPid, second.workerPid] as number[];
    expect(workers).not.toContain(herald.child.pid); // the primary serves nothing itself

    // Both workers answer: each logs the requests it served under its own pid.
    for (let i = 0; i < 10; i++) expect(await healthOnNewConnection(port)).toBe(200);
    const answeredBy = new Set(herald.lines.filter((l) => l.msg === 'request completed').map((l) => l.pid));
    expect([...answeredBy].sort()).toEqual([...workers].sort());

    const mark = herald.lines.length;
    process.kill(workers[0]!, 'SIGKILL');
    const died = await herald.logged((l) => l.msg === 'worker died unexpectedly: starting another', mark);
    expect(died).toMatchObject({ workerPid: workers[0], signal: 'SIGKILL' });
    // Meanwhile the surviving worker has the port to itself.
    for (let i = 0; i < 5; i++) expect(await healthOnNewConnection(port)).toBe(200);
    const replacement = await herald.logged((l) => serving(l) && !workers.includes(l.workerPid as number), mark);
    expect(alive(replacement.workerPid as number)).toBe(true);
  });

  it('SIGTERM to the primary stops every worker gracefully and exits 0', async () => {
    const workers = herald.lines.filter((l) => l.role === 'primary' && l.msg === 'worker serving').map((l) => l.workerPid as number);
    const running = workers.filter(alive);
    expect(running).toHaveLength(2);
    const exited = new Promise<number | null>((resolve) => herald.child.once('exit', (code) => resolve(code)));
    herald.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(running.filter(alive)).toEqual([]);
    const shutdowns = herald.lines.filter((l) => l.msg === 'shutting down: finishing in-flight requests').map((l) => l.pid);
    expect(shutdowns.sort()).toEqual([...running].sort());
    expect(herald.lines.at(-1)).toMatchObject({ role: 'primary', msg: 'all workers stopped' });
  });
});

describe('worker counts and restart delays', () => {
  it('reads --workers: a number, or 0 and auto for one per core', () => {
    expect(workerCount('3')).toBe(3);
    expect(workerCount('auto')).toBe(availableParallelism());
    expect(workerCount('0')).toBe(availableParallelism());
    expect(() => workerCount('-1')).toThrow(/--workers takes a number/);
  });

  it('waits longer before each restart while workers keep dying young, up to 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(restartDelayMs)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(restartDelayMs(0)).toBe(1_000); // a healthy worker's death: the shortest delay
  });
});

describe('herald serve --workers on SQLite', () => {
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'herald-workers-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('refuses more than one worker with a clear message and a non-zero exit, before starting anything', async () => {
    const database = join(folder, 'herald.db');
    const refused = await run(process.execPath, [...cli, 'serve', '--workers', '2'], {
      env: { ...process.env, HERALD_DATABASE: database, HERALD_JWT_SECRET: testSecret, PORT: String(await freePort()) },
    }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toMatch(/--workers 2 needs PostgreSQL: SQLite serves one process/);
  });

  it('stops with exit 1, instead of restarting forever, when no worker ever manages to serve (the port is taken)', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const { port } = squatter.address() as { port: number };
    try {
      const herald = serveWorkers('1', { HERALD_DATABASE: join(folder, 'taken.db'), PORT: String(port) });
      const code = await new Promise<number | null>((resolve) => herald.child.once('exit', (exitCode) => resolve(exitCode)));
      expect(code).toBe(1);
      expect(herald.lines.map((l) => l.msg)).toContain('a worker failed before Herald served: stopping');
      expect(herald.lines.at(-1)).toMatchObject({ role: 'primary', msg: 'all workers stopped after a failure' });
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('refuses a worker count that is not a number', async () => {
    const refused = await run(process.execPath, [...cli, 'serve', '--workers', 'many'], {
      env: { ...process.env, HERALD_DATABASE: join(folder, 'herald.db'), HERALD_JWT_SECRET: testSecret },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stderr: string }).stderr).toMatch(/--workers takes a number of processes, or 0 or auto/);
  });
});
