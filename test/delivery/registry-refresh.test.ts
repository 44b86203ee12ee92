import { afterEach, beforeEach, expect, it } from 'vitest';
import { SubscriptionRegistry } from '../../src/delivery/subscription-registry.js';
import { describeEachEngine } from '../support/engines.js';
import { startReceiver } from '../support/receiver.js';
import { createTestApp, sampleEvent, type TestApp, validEvent } from '../support/test-app.js';
import { eventually } from './helpers.js';

const resource = 'urn:altinn:resource:registry.test';

/** Issue 13: a subscription change reads that subscription, not every subscription. */
describeEachEngine('The subscription registry on $name', (engine) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp(engine);
  });
  afterEach(async () => t?.close());

  const createPull = async (resourceFilter: string, typeFilter?: string) => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/subscriptions',
      headers: t.auth,
      payload: { resourceFilter, typeFilter },
    });
    expect(created.statusCode, created.body).toBe(201);
    return (created.json() as { id: number }).id;
  };

  it('takes in a created, disabled, enabled and deleted subscription without reading them all, and matches as a full reload would', async () => {
    for (let i = 0; i < 5; i++) await createPull(`${resource}.${i}`);
    let fullReads = 0;
    const listAll = t.store.subscriptions.listAll.bind(t.store.subscriptions);
    t.store.subscriptions.listAll = () => {
      fullReads++;
      return listAll();
    };
    const event = validEvent({ resource });
    const id = await createPull(resource);
    expect(t.registry.match(event)).toEqual([id]); // matched as soon as the answer came
    await t.store.subscriptions.disable(id, 'test');
    await eventually(() => t.registry.match(event).length === 0);
    await t.store.subscriptions.enable(id, Date.now());
    await eventually(() => t.registry.match(event).length === 1);
    // Not the identical subscription (that would be the same one), but one that matches the same event.
    const other = await createPull(resource, String(event.type));
    expect(other).not.toBe(id);
    await t.store.subscriptions.delete(id);
    await eventually(() => t.registry.match(event).join() === String(other));
    expect(fullReads).toBe(0);

    t.store.subscriptions.listAll = listAll;
    const fresh = new SubscriptionRegistry(t.store);
    await fresh.reload();
    for (const r of [resource, `${resource}.0`, `${resource}.4`, 'urn:altinn:resource:none']) {
      const probe = validEvent({ resource: r });
      expect([...t.registry.match(probe)].sort()).toEqual([...fresh.match(probe)].sort());
    }
  });

  it('matches a subscription from the moment the database calls it active after its handshake', async () => {
    const receiver = await startReceiver();
    try {
      const created = await t.app.inject({
        method: 'POST',
        url: '/events/api/v1/subscriptions',
        headers: t.auth,
        payload: { endPoint: receiver.url, resourceFilter: resource },
      });
      expect(created.statusCode, created.body).toBe(201);
      const { id } = created.json() as { id: number };
      // The registry reads a changed subscription again once the change is durable and announced: after a disk
      // flush on SQLite, a NOTIFY on PostgreSQL, both slow under load. A client that reads "active" meanwhile
      // and publishes at once must be delivered to all the same.
      const get = t.store.subscriptions.get.bind(t.store.subscriptions);
      t.store.subscriptions.get = async (subscriptionId) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return get(subscriptionId);
      };
      const handshake = t.dispatcher.runOnce();
      await eventually(async () => (await t.store.subscriptions.listAll()).find((s) => s.id === id)?.status === 'active');
      const published = await t.app.inject({
        method: 'POST',
        url: '/events/api/v1/events',
        headers: { ...t.auth, 'content-type': 'application/cloudevents-batch+json' },
        payload: JSON.stringify([sampleEvent({ id: 'right-after', resource })]),
      });
      expect(published.statusCode, published.body).toBe(200);
      await handshake;
      t.store.subscriptions.get = get;
      await t.dispatcher.runOnce();
      expect(receiver.events().map((r) => r.json.id)).toEqual(['right-after']);
    } finally {
      await receiver.close();
    }
  });
});
