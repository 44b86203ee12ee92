// Herald killed (SIGKILL, no goodbye) while the client's pull loop holds a long poll open and a publish is on its
// way, then started again on the same port and database: the loops go on, nothing is lost or handled twice.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, expect, it } from 'vitest';
import { HeraldClient, memoryCursorStore, type RetryInfo } from '../../packages/client/src/index.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { freePort } from '../support/herald-process.js';
import { sampleEvent } from '../support/test-app.js';
import { testSecret, testToken } from '../support/tokens.js';

const events = (count: number, from = 0) => Array.from({ length: count }, (_, i) => sampleEvent({ id: `event-${from + i}` }));

/** `herald serve` as its own process on a given port; resolves once it is ready. */
async function serve(database: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    env: { ...process.env, HERALD_DATABASE: database, HERALD_JWT_SECRET: testSecret, PORT: String(port), HOST: '127.0.0.1', HERALD_LOG_LEVEL: 'silent' },
    stdio: 'ignore',
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined))?.ok) return child;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error('herald serve did not become ready');
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describeEachEngine('@herald/client across a Herald killed mid-request', (engine) => {
  let db: TestDatabase;
  let child: ChildProcess | undefined;
  afterEach(async () => {
    if (child) await kill(child);
    await db.destroy();
  });

  it('pull and publish: a SIGKILL during a long poll and a publish loses and repeats nothing', { timeout: 90_000 }, async () => {
    db = await engine.create();
    const port = await freePort();
    child = await serve(db.database, port);
    const retries: RetryInfo[] = [];
    const client = new HeraldClient({
      baseUrl: `http://127.0.0.1:${port}`,
      token: await testToken(),
      retry: { minDelayMs: 100, maxDelayMs: 300, attempts: 200 },
      onRetry: (info) => retries.push(info),
    });
    const subscription = await client.subscriptions.create({ resourceFilter: 'urn:altinn:resource:dodsbo.domstoladmin.api' });
    await client.publish(events(20));

    const handled: string[] = [];
    const stop = new AbortController();
    const pulling = client.pull(
      subscription.id,
      (page) => {
        handled.push(...page.map((e) => e.id));
        if (handled.length >= 50) stop.abort();
      },
      { checkpoint: memoryCursorStore(), limit: 10, waitSeconds: 10, signal: stop.signal },
    );
    // Drained: the loop now holds a long poll open. Kill Herald under it.
    await expect.poll(() => handled.length, { timeout: 20_000 }).toBe(20);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await kill(child);
    // A publish while Herald is down waits for it to come back.
    const publishing = client.publish(events(30, 20), { maxBatchEvents: 10 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    child = await serve(db.database, port);
    await publishing;
    await pulling;
    expect(handled).toEqual(events(50).map((e) => e.id));
    expect(retries.filter((r) => r.reason instanceof Error).length).toBeGreaterThan(1);
  });
});
