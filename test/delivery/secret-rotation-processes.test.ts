import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { DeliveryTask } from '../../src/store/records.js';
import type { DeliveryClaim } from '../../src/store/store.js';
import { describeEachEngine, postgresEngine, type TestDatabase } from '../support/engines.js';
import { type ReceivedRequest, type Receiver, startReceiver } from '../support/receiver.js';
import { assembleHerald, type HeraldUnderTest, validEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { eventually, publish, resource, subscribe } from './helpers.js';

function verifies(secret: string, request: ReceivedRequest): boolean {
  try {
    new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
}

/**
 * Several Herald processes on one PostgreSQL: a rotation answered by one reaches what every other sends from then
 * on, whether or not that process has heard of it yet.
 */
describeEachEngine('Rotating a secret across processes on $name', (engine) => {
  let db: TestDatabase;
  let receiver: Receiver;
  const heralds: HeraldUnderTest[] = [];
  const start = async () => {
    const herald = await assembleHerald(await db.open(), { schedule: [1_000, 2_000], timeoutMs: 500 });
    heralds.push(herald);
    return herald;
  };
  beforeEach(async () => {
    db = await engine.create();
    receiver = await startReceiver();
  });
  afterEach(async () => {
    for (const herald of heralds.splice(0)) await herald.close();
    await receiver.close();
    await db.destroy();
  });

  async function rotate(herald: HeraldUnderTest, id: number, graceSeconds: number): Promise<string> {
    const response = await herald.app.inject({
      method: 'POST',
      url: `/events/api/v1/subscriptions/${id}/secret/rotate`,
      headers: { authorization: `Bearer ${await testToken()}` },
      payload: { graceSeconds },
    });
    expect(response.statusCode, response.body).toBe(200);
    return (response.json() as { secret: string }).secret;
  }

  it.skipIf(engine.name !== postgresEngine.name)(
    'a process that has not heard of a rotation yet still signs with the new secret: its lease tells it to read again',
    async () => {
      const a = await start();
      const b = await start();
      const subscription = await subscribe(a, receiver.url);
      await b.registry.reload();
      // B stops hearing announcements: its copy of the subscription stays as it was before the rotation.
      b.registry.stop();
      const secret = await rotate(a, subscription.id, 0);
      expect(b.registry.get(subscription.id)?.secret).toBe(subscription.secret);

      await publish(a, 'after-rotation');
      expect(await b.dispatcher.runOnce()).toBe(1);
      const [request] = receiver.events();
      expect(verifies(secret, request as ReceivedRequest)).toBe(true);
      expect(verifies(subscription.secret, request as ReceivedRequest)).toBe(false);
      expect(b.registry.get(subscription.id)?.secret).toBe(secret);
    },
  );

  it.skipIf(engine.name !== postgresEngine.name)(
    'in the minute after a rotation no process claims the deliveries of that subscription at publishing: they go through a lease',
    async () => {
      const a = await start();
      const b = await start();
      const rotated = await subscribe(a, receiver.url);
      const untouched = await subscribe(a, receiver.url, { typeFilter: 'no.altinn.events.digitalt-dodsbo.opprettet' });
      await b.registry.reload();
      b.registry.stop();
      const secret = await rotate(a, rotated.id, 3600);

      // B publishes, offering to send every new delivery itself at once, as a running dispatcher does.
      const handed: DeliveryTask[] = [];
      const claim: DeliveryClaim = {
        owner: 'b-claims',
        leaseUntil: b.clock.now() + 60_000,
        wants: () => true,
        handOff: (tasks) => handed.push(...tasks),
        ended: () => {},
      };
      await b.store.appendEvents([validEvent({ id: 'claimed-or-not', resource })], b.registry.match, claim);
      expect(handed.map((task) => task.subscriptionId)).toEqual([untouched.id]);

      // The rotated subscription's delivery waits for a lease, and whoever leases it signs with both secrets.
      expect(await b.dispatcher.runOnce()).toBe(1);
      const [request] = receiver.events();
      expect(request?.headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
      expect(verifies(secret, request as ReceivedRequest)).toBe(true);
      expect(verifies(rotated.secret, request as ReceivedRequest)).toBe(true);
    },
  );

  it.skipIf(engine.name !== postgresEngine.name)(
    'with both processes running, an event published on one right after the other answered a rotation carries the new signature',
    async () => {
      const a = await start();
      const b = await start();
      const subscription = await subscribe(a, receiver.url);
      await b.registry.reload();
      a.dispatcher.start();
      b.dispatcher.start();
      for (const [round, [rotator, publisher]] of [[a, b], [b, a], [a, b]].entries()) {
        const secret = await rotate(rotator as HeraldUnderTest, subscription.id, 0);
        const id = `round-${round}`;
        await publish(publisher as HeraldUnderTest, id);
        await eventually(() => receiver.events().some((r) => r.json.id === id));
        const request = receiver.events().find((r) => r.json.id === id) as ReceivedRequest;
        expect(verifies(secret, request)).toBe(true);
      }
    },
  );
});
