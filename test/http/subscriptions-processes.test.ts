import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { assembleHerald, type HeraldUnderTest, sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { eventsPath } from './harness.js';

const subscriptionsPath = '/events/api/v1/subscriptions';
const resource = 'urn:altinn:resource:dodsbo.domstoladmin.api';
/** DESIGN §1: "Filter changes take effect at once on every node (no hour-long caches)." */
const atOnceMs = 1_000;

describeEachEngine('Subscription changes across two Herald processes on one $name database', (engine) => {
  let db: TestDatabase;
  let a: HeraldUnderTest;
  let b: HeraldUnderTest;
  let receiver: Receiver;
  let auth: { authorization: string };

  beforeEach(async () => {
    db = await engine.create();
    a = await assembleHerald(await db.open());
    b = await assembleHerald(await db.open());
    receiver = await startReceiver();
    auth = { authorization: `Bearer ${await testToken()}` };
  });
  afterEach(async () => {
    await a?.close();
    await b?.close();
    await db?.destroy();
    await receiver?.close();
  });

  async function subscribeAndValidateOn(herald: HeraldUnderTest): Promise<number> {
    const response = await herald.app.inject({
      method: 'POST',
      url: subscriptionsPath,
      headers: auth,
      payload: { endpoint: receiver.url, resourceFilter: resource },
    });
    expect(response.statusCode, response.body).toBe(201);
    expect(await herald.dispatcher.runOnce()).toBe(1);
    return response.json().id;
  }

  async function publishOn(herald: HeraldUnderTest, id: string) {
    return herald.app.inject({
      method: 'POST',
      url: eventsPath,
      headers: { ...auth, 'content-type': 'application/cloudevents+json' },
      payload: sampleEvent({ id }),
    });
  }

  async function deliveredEventIds(herald: HeraldUnderTest, subscriptionId: number): Promise<string[]> {
    const response = await herald.app.inject({
      method: 'GET',
      url: `${subscriptionsPath}/${subscriptionId}/deliveries?size=1000`,
      headers: auth,
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json().deliveries.map((d: { eventId: string }) => d.eventId);
  }

  /**
   * Publishes probe events on `herald` until one gets a delivery row for the subscription, for at most
   * `atOnceMs`. The one place these tests wait: how soon another process hears of a change is what is tested.
   * @returns the id of the first probe that got a delivery, or `undefined`
   */
  async function firstProbeDelivered(herald: HeraldUnderTest, subscriptionId: number): Promise<string | undefined> {
    const deadline = Date.now() + atOnceMs;
    for (let n = 0; ; n++) {
      const probe = `probe-${n}`;
      const published = await publishOn(herald, probe);
      expect(published.statusCode, published.body).toBe(200);
      if ((await deliveredEventIds(herald, subscriptionId)).includes(probe)) return probe;
      if (Date.now() > deadline) return undefined;
      await sleep(10);
    }
  }

  // One process serves a SQLite file (docs/storage.md): its announcements stay in that process, so changes
  // reach other processes only with the registry's 30 s refresh. Several processes need PostgreSQL.
  const acrossProcesses = it.skipIf(engine.name === 'sqlite');

  acrossProcesses('applies a subscription created and validated on A to what B publishes within a second', async () => {
    const subscriptionId = await subscribeAndValidateOn(a);
    const probe = await firstProbeDelivered(b, subscriptionId);
    expect(probe, `B matched none of its events within ${atOnceMs} ms`).toBeDefined();

    // From then on every event B publishes, and B's dispatcher delivers them.
    expect((await publishOn(b, 'next')).statusCode).toBe(200);
    expect(await deliveredEventIds(b, subscriptionId)).toEqual([probe, 'next']);
    expect(await b.dispatcher.runOnce()).toBe(2);
    expect(receiver.events().map((r) => r.json.id)).toEqual([probe, 'next']);
  });

  // Until B hears of a DELETE on A its index still names the subscription; the publish transaction writes
  // deliveries only for subscriptions still active in the database, so a stale index cannot fail a publish.
  it('keeps publishing on B while B has not yet heard that A deleted a subscription it matches', async () => {
    const subscriptionId = await subscribeAndValidateOn(a);
    await b.registry.reload(); // B knows the subscription, as it would a moment later.
    // Holds open the window before B hears of the DELETE, which otherwise depends on a race with the NOTIFY.
    b.registry.stop();

    const deleted = await a.app.inject({ method: 'DELETE', url: `${subscriptionsPath}/${subscriptionId}`, headers: auth });
    expect(deleted.statusCode, deleted.body).toBe(200);
    const published = await publishOn(b, 'right-after-delete');
    expect(published.statusCode, published.body).toBe(200);
  });

  acrossProcesses('stops matching on B within a second of a DELETE on A', async () => {
    const subscriptionId = await subscribeAndValidateOn(a);
    expect(await firstProbeDelivered(b, subscriptionId)).toBeDefined();
    const deleted = await a.app.inject({ method: 'DELETE', url: `${subscriptionsPath}/${subscriptionId}`, headers: auth });
    expect(deleted.statusCode, deleted.body).toBe(200);

    // B publishes throughout (a subscription deleted under it must not fail a publish) and forgets the
    // subscription once it hears of the delete: that, not the first publish's answer, ends the wait.
    const deadline = Date.now() + atOnceMs;
    for (let n = 0; Date.now() <= deadline && b.registry.get(subscriptionId) !== undefined; n++) {
      const published = await publishOn(b, `after-delete-${n}`);
      expect(published.statusCode, published.body).toBe(200);
      await sleep(10);
    }
    expect(b.registry.get(subscriptionId), `B still matched the deleted subscription after ${atOnceMs} ms`).toBeUndefined();
  });
});
