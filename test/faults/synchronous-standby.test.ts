import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { StoreTopic } from '../../src/store/store.js';
import { PostgresCluster, skippedWithoutCluster } from '../support/postgres-cluster.js';
import { assembleHerald, type HeraldUnderTest, sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';

/** Waits until `check` holds, polling; fails with `what` after `timeoutMs`. */
async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Herald on a primary with a synchronous standby, in this process (docs/high-availability.md): which host it
 * writes to, what a publish answers while the standby is down, and how it finds a promoted standby.
 */
describe('PostgreSQL with a synchronous standby, Herald in process', () => {
  if (skippedWithoutCluster()) return;
  let cluster: PostgresCluster;
  let store: PostgresStore;
  let herald: HeraldUnderTest;
  let authorization: string;
  const commitTimeoutMs = 2_000;

  beforeAll(async () => {
    cluster = await PostgresCluster.start();
    // The standby first: Herald must pass over a server that takes no writes.
    store = await PostgresStore.open({ connectionString: cluster.url([cluster.standby, cluster.primary]), commitTimeoutMs });
    herald = await assembleHerald(store);
    authorization = `Bearer ${await testToken()}`;
  }, 120_000);
  afterAll(async () => {
    await herald?.close();
    await cluster?.destroy();
  });

  const publish = (id: string) =>
    herald.app.inject({
      method: 'POST',
      url: '/events/api/v1/events',
      headers: { authorization, 'content-type': 'application/cloudevents+json' },
      payload: sampleEvent({ id }),
    });
  const storedOn = async (node: PostgresCluster['primary'], id: string) =>
    (await cluster.sql(node, `SELECT 1 FROM event_keys WHERE id = '${id}'`)).length === 1;

  it('writes to the host that accepts writes, wherever it stands in the list, and the standby has each acknowledged event', async () => {
    expect((await publish('first')).statusCode).toBe(200);
    expect(await storedOn(cluster.primary, 'first')).toBe(true);
    // Synchronous: acknowledged means flushed on the standby; replayed a moment later.
    await cluster.caughtUp(cluster.standby);
    expect(await storedOn(cluster.standby, 'first')).toBe(true);
  });

  it('while the standby is down: 503 after HERALD_COMMIT_TIMEOUT, never a 200, even for a retry of the same id; 200 once it is back', async () => {
    await cluster.stop(cluster.standby);
    // PostgreSQL commits it on the primary, then waits for the standby until Herald cancels the wait: it
    // exists, unacknowledged. (On a loaded machine the timeout may come before the commit: then nothing is
    // stored, and the next try commits it.)
    await eventually('the event to be committed on the primary, unacknowledged', async () => {
      const during = await publish('unreplicated');
      expect(during.statusCode).toBe(503);
      expect(during.headers['retry-after']).toBeDefined();
      return storedOn(cluster.primary, 'unreplicated');
    });
    // A retry finds it a repeat, which commits nothing; Herald still waits for the standby before a 200.
    expect((await publish('unreplicated')).statusCode).toBe(503);
    // Reads do not wait for the standby.
    expect((await herald.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);

    await cluster.restart(cluster.standby);
    let retry = await publish('unreplicated');
    await eventually('a retry to be acknowledged once the standby is back', async () => {
      retry = await publish('unreplicated');
      return retry.statusCode === 200;
    });
    expect(retry.statusCode).toBe(200);
    await cluster.caughtUp(cluster.standby);
    expect(await storedOn(cluster.standby, 'unreplicated')).toBe(true);
    expect((await publish('after-standby-back')).statusCode).toBe(200);
  }, 60_000);

  it('with no primary: 503 at once and /ready red; after the promotion, publishes and notices resume without a restart', async () => {
    const heard: { topic: StoreTopic; ids: readonly number[] | undefined }[] = [];
    const stop = store.watch((topic, ids) => heard.push({ topic, ids }));
    await cluster.caughtUp(cluster.standby);
    await cluster.killPrimary();

    const during = await publish('no-primary');
    expect(during.statusCode).toBe(503);
    expect((await herald.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(503);

    await cluster.promote(cluster.standby);
    await eventually('a publish to be acknowledged by the promoted standby', async () => (await publish('no-primary')).statusCode === 200, 10_000);
    expect(await storedOn(cluster.standby, 'no-primary')).toBe(true);
    expect((await herald.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
    // The listener LISTENs on the new primary: a notice sent there (as another Herald process would) is heard.
    await eventually('a notice from the new primary to be heard', async () => {
      await cluster.sql(cluster.standby, "SELECT pg_notify('herald_subscriptions', '4242')");
      return heard.some((h) => h.topic === 'subscriptions' && h.ids?.includes(4242));
    });
    stop();
  }, 60_000);
});
