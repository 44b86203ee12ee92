import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { DeliveryBudgets } from '../../src/domain/delivery-budgets.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { assembleHerald, type HeraldUnderTest, validEvent } from '../support/test-app.js';
import { eventually } from './helpers.js';

const first = 'urn:altinn:resource:deleted-in-flight.first';
const second = 'urn:altinn:resource:deleted-in-flight.second';

/**
 * An attempt's consumer and origin are those of its subscription when it started: a subscription deleted while
 * its attempt runs must still give the slot back when the attempt ends, or its consumer (or every endpoint at its
 * origin) waits for good.
 */
describeEachEngine('An attempt in flight when its subscription is deleted, on $name', (engine) => {
  let db: TestDatabase;
  let herald: HeraldUnderTest | undefined;
  const receivers: Receiver[] = [];
  /** Requests the holding receiver has not answered yet. */
  const held: ServerResponse[] = [];

  beforeEach(async () => {
    db = await engine.create();
  });
  afterEach(async () => {
    for (const response of held.splice(0)) response.end();
    for (const receiver of receivers.splice(0)) await receiver.close();
    await herald?.close();
    await db.destroy();
  });

  async function start(budgets: Partial<DeliveryBudgets>) {
    const store = await db.open();
    herald = await assembleHerald(store, { timeoutMs: 20_000, dispatcher: { budgets } });
    return herald;
  }

  async function receiver(hold: boolean) {
    const started = await startReceiver((_, response) => {
      if (!hold) return { status: 200 };
      held.push(response);
      return 'handled';
    });
    receivers.push(started);
    return started;
  }

  async function subscribe(h: HeraldUnderTest, consumer: string, endpoint: string, resourceFilter: string) {
    const now = Date.now();
    const { subscription } = await h.store.subscriptions.create({
      identity: `${consumer} ${endpoint} ${resourceFilter}`,
      consumer,
      createdBy: consumer,
      endpoint,
      sourceFilter: null,
      resourceFilter,
      subjectFilter: null,
      alternativeSubjectFilter: null,
      typeFilter: null,
      secret: 'whsec_dGVzdA==',
      status: 'active',
      nextValidationAt: null,
      validatedAt: now,
      now,
    });
    await eventually(() => h.registry.get(subscription.id) !== undefined);
    return subscription.id;
  }

  /** Starts an attempt to `doomed` that hangs, deletes `doomed` meanwhile, then lets the attempt end. */
  async function deleteWhileInFlight(h: HeraldUnderTest, doomed: number, hanging: Receiver) {
    h.dispatcher.start();
    await h.store.appendEvents([validEvent({ id: 'in-flight', resource: first })], h.registry.match);
    h.dispatcher.wake();
    await eventually(() => hanging.events().length === 1);
    expect(await h.store.subscriptions.delete(doomed)).toBe(true);
    await eventually(() => h.registry.get(doomed) === undefined);
    for (const response of held.splice(0)) response.writeHead(200).end();
  }

  it("gives its consumer's slot back when it ends", async () => {
    const h = await start({ perConsumer: 1 });
    const hanging = await receiver(true);
    const healthy = await receiver(false);
    const doomed = await subscribe(h, 'alpha', hanging.url, first);
    await subscribe(h, 'alpha', healthy.url, second);
    await deleteWhileInFlight(h, doomed, hanging);

    await h.store.appendEvents([validEvent({ id: 'after', resource: second })], h.registry.match);
    h.dispatcher.wake();
    await eventually(() => healthy.events().length === 1);
  });

  it("gives its origin's slot back when it ends", async () => {
    const h = await start({ perOrigin: 1 });
    const hanging = await receiver(true);
    const doomed = await subscribe(h, 'alpha', hanging.url, first);
    // Another consumer's endpoint at the same origin: only the origin's budget stands between them.
    const neighbour = await subscribe(h, 'beta', `${hanging.url}/beta`, second);
    await deleteWhileInFlight(h, doomed, hanging);

    await h.store.appendEvents([validEvent({ id: 'after', resource: second })], h.registry.match);
    h.dispatcher.wake();
    await eventually(() => hanging.events().length === 2);
    expect(hanging.events()[1]!.json.id).toBe('after');
    expect(h.registry.get(neighbour)).toBeDefined();
  });
});
