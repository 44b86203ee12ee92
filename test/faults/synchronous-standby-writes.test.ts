import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { isStoreUnavailable } from '../../src/store/store-errors.js';
import { deliveriesOf, publish, subscribe } from '../delivery/helpers.js';
import { pullClient, subscriptionsPath } from '../http/pull-harness.js';
import { PostgresCluster, skippedWithoutCluster } from '../support/postgres-cluster.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { assembleHerald, type HeraldUnderTest } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';

/** Waits until `check` holds, polling; fails with `what` after `timeoutMs`. */
async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Every write, not only publishing, answers within HERALD_COMMIT_TIMEOUT while the synchronous standby is
 * down (docs/high-availability.md#while-the-synchronous-standby-is-down): a 503, never a success the standby
 * has not confirmed, and the dispatcher backs off as in an outage.
 */
describe('PostgreSQL with the synchronous standby down: every write bounded by HERALD_COMMIT_TIMEOUT', () => {
  if (skippedWithoutCluster()) return;
  const commitTimeoutMs = 2_000;
  // Generous: the bound, plus the reads and the cancel around it, on a loaded machine.
  const answeredWithin = 3 * commitTimeoutMs;
  const idleWaitMs = 200;
  let cluster: PostgresCluster;
  let store: PostgresStore;
  let herald: HeraldUnderTest;
  let receiver: Receiver;
  let auth: { authorization: string };
  const dispatcherErrors: { error: unknown; context: string }[] = [];

  beforeAll(async () => {
    cluster = await PostgresCluster.start();
    store = await PostgresStore.open({ connectionString: cluster.url([cluster.primary]), commitTimeoutMs });
    herald = await assembleHerald(store, { dispatcher: { idleWaitMs, onError: (error, context) => dispatcherErrors.push({ error, context }) } });
    receiver = await startReceiver();
    auth = { authorization: `Bearer ${await testToken()}` };
  }, 120_000);
  afterAll(async () => {
    await herald?.close();
    await receiver?.close();
    await store?.close();
    await cluster?.destroy();
  });

  /** A request's answer and how long it took. */
  const timed = async <T>(request: () => Promise<T>) => {
    const started = Date.now();
    const answer = await request();
    return { answer, tookMs: Date.now() - started };
  };
  const createSubscription = (resourceFilter: string) =>
    herald.app.inject({ method: 'POST', url: subscriptionsPath, headers: auth, payload: { resourceFilter } });
  const rowsOnPrimary = async (resourceFilter: string) =>
    Number((await cluster.sql(cluster.primary, `SELECT count(*) AS n FROM subscriptions WHERE resource_filter = '${resourceFilter}'`))[0]?.n);

  it('subscriptions, pull acknowledgements and the dispatcher answer 503 within the bound, never 2xx; all succeed once the standby is back', async () => {
    // Before: a pull subscription with a page to acknowledge, a push subscription with deliveries waiting.
    const pull = pullClient(herald.app, auth);
    const pullId = await pull.subscribe();
    await pull.publish('pull-1', 'pull-2');
    const page = await pull.page(pullId);
    expect(page.events).toHaveLength(2);
    const push = await subscribe(herald, receiver.url);
    expect(push.status).toBe('active');
    await publish(herald, 'push-1', 'push-2', 'push-3');

    await cluster.stop(cluster.standby);
    // The dispatcher's loop starts now: its leases find deliveries due and wait for the standby.
    herald.dispatcher.start();

    const created = await timed(() => createSubscription('urn:altinn:resource:herald.standby-down'));
    expect(created.answer.statusCode, created.answer.body).toBe(503);
    expect(created.answer.headers['retry-after']).toBeDefined();
    expect(created.tookMs).toBeLessThan(answeredWithin);
    // The retry finds the first (committed on the primary alone, or not at all if the bound came first): it
    // does not answer 201 before the standby has it either.
    const retried = await timed(() => createSubscription('urn:altinn:resource:herald.standby-down'));
    expect(retried.answer.statusCode, retried.answer.body).toBe(503);
    expect(retried.tookMs).toBeLessThan(answeredWithin);

    const acknowledged = await timed(() => pull.read(pullId, { checkPoint: page.checkPoint }));
    expect(acknowledged.answer.statusCode, acknowledged.answer.body).toBe(503);
    expect(acknowledged.answer.headers['retry-after']).toBeDefined();
    expect(acknowledged.tookMs).toBeLessThan(answeredWithin);

    await eventually('the dispatcher to have met the bound', () => dispatcherErrors.some((e) => e.context === 'leasing deliveries'));
    const outage = Date.now();
    // Backing off, not spinning: at most one failed lease per idle wait (each also waits out the bound).
    await new Promise((resolve) => setTimeout(resolve, 2 * commitTimeoutMs));
    const leaseFailures = dispatcherErrors.filter((e) => e.context === 'leasing deliveries');
    expect(leaseFailures.length).toBeLessThanOrEqual(2 + (Date.now() - outage + commitTimeoutMs) / idleWaitMs);
    expect(dispatcherErrors.every((e) => isStoreUnavailable(e.error)), String(dispatcherErrors.map((e) => e.error))).toBe(true);
    expect(receiver.events()).toHaveLength(0);

    await cluster.restart(cluster.standby);
    let again = await createSubscription('urn:altinn:resource:herald.standby-down');
    await eventually('the subscription to be created once the standby is back', async () => {
      again = await createSubscription('urn:altinn:resource:herald.standby-down');
      return again.statusCode === 201;
    });
    // Identical subscriptions meet on one row: the retries made none of their own.
    expect(await rowsOnPrimary('urn:altinn:resource:herald.standby-down')).toBe(1);
    const next = await pull.read(pullId, { checkPoint: page.checkPoint });
    expect(next.statusCode, next.body).toBe(200);
    expect(next.json().events).toHaveLength(0);
    await eventually('every waiting delivery to be delivered', async () => (await deliveriesOf(herald, push.id, 'delivered')).length === 3);
    expect(receiver.events().map((r) => r.json.id).sort()).toEqual(['push-1', 'push-2', 'push-3']);
    await cluster.caughtUp(cluster.standby);
  }, 120_000);
});
