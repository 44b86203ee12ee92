import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { deliveriesOf, publish, subscribe } from './helpers.js';

describeEachEngine('Webhook delivery on $name', (engine) => {
  let t: TestApp;
  let receiver: Receiver;
  beforeEach(async () => {
    // Ladder in tests: first try, then 1 s and 2 s later (3 attempts).
    t = await createTestApp(engine, undefined, { schedule: [1_000, 2_000], timeoutMs: 500 });
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('posts the event exactly as stored, as a structured CloudEvent, signed so standardwebhooks verifies it', async () => {
    const subscription = await subscribe(t, receiver.url);
    expect(subscription.status).toBe('active');
    await publish(t, 'exact-1');
    await t.dispatcher.runOnce();
    const [request] = receiver.events();
    const [stored] = await t.store.readEvents({ afterSeq: 0, limit: 1 });
    expect(request!.body).toBe(stored!.payload);
    expect(request!.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    expect(new Webhook(subscription.secret).verify(request!.body, request!.headers as Record<string, string>)).toMatchObject({
      id: 'exact-1',
    });
    expect(() => new Webhook(subscription.secret).verify(`${request!.body} `, request!.headers as Record<string, string>)).toThrow();
  });

  it('retries on the ladder with a stable webhook-id, then delivers; the log shows every attempt', async () => {
    const subscription = await subscribe(t, receiver.url);
    let calls = 0;
    receiver.behave(() => ({ status: ++calls < 3 ? 500 : 204 }));
    await publish(t, 'retry-1');
    await t.dispatcher.runOnce();
    expect(await deliveriesOf(t, subscription.id)).toMatchObject([
      { eventId: 'retry-1', status: 'failed', attempts: 1, lastStatusCode: 500, lastError: 'The endpoint answered 500.' },
    ]);
    expect(await t.dispatcher.runOnce()).toBe(0); // not due yet: nothing is sent early
    t.clock.advance(1_100);
    await t.dispatcher.runOnce();
    t.clock.advance(2_200);
    await t.dispatcher.runOnce();
    const attempts = receiver.events();
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.headers['webhook-id'])).size).toBe(1);
    const [delivery] = await deliveriesOf(t, subscription.id);
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 204 });
    expect(delivery).toHaveProperty('deliveredAt');
    expect(delivery).not.toHaveProperty('nextAttemptAt');
  });

  it('dead-letters after the last attempt, keeps the last status and error visible, and redrives on request', async () => {
    const subscription = await subscribe(t, receiver.url);
    receiver.behave(() => ({ status: 503 }));
    await publish(t, 'dead-1', 'dead-2');
    for (const wait of [0, 1_100, 2_200]) {
      t.clock.advance(wait);
      await t.dispatcher.runOnce();
    }
    const dead = await deliveriesOf(t, subscription.id, 'dead');
    expect(dead).toHaveLength(2);
    expect(dead[0]).toMatchObject({ attempts: 3, lastStatusCode: 503 });
    expect(String(dead[0]!.lastError)).toMatch(/503.*No attempts left/);
    t.clock.advance(60_000);
    expect(await t.dispatcher.runOnce()).toBe(0); // dead stays dead

    receiver.behave(() => ({ status: 200 }));
    const redrive = await t.app.inject({
      method: 'POST',
      url: `/events/api/v1/subscriptions/${subscription.id}/deliveries/redrive`,
      headers: t.auth,
    });
    expect(redrive.json()).toEqual({ redriven: 2 });
    await t.dispatcher.runOnce();
    expect((await deliveriesOf(t, subscription.id, 'delivered')).map((d) => d.eventId)).toEqual(['dead-1', 'dead-2']);
    expect((await t.app.inject({ method: 'POST', url: `/events/api/v1/subscriptions/${subscription.id}/deliveries/redrive`, headers: t.auth })).json()).toEqual({ redriven: 0 });
  });

  it('disables the subscription on 410 Gone: no more attempts, the delivery is dead with the reason', async () => {
    const subscription = await subscribe(t, receiver.url);
    receiver.behave(() => ({ status: 410 }));
    await publish(t, 'gone-1');
    await t.dispatcher.runOnce();
    receiver.behave(() => ({ status: 200 }));
    await publish(t, 'gone-2');
    t.clock.advance(10_000);
    await t.dispatcher.runOnce();
    expect(receiver.events().map((r) => r.json.id)).toEqual(['gone-1']);
    const shown = await t.app.inject({ method: 'GET', url: `/events/api/v1/subscriptions/${subscription.id}`, headers: t.auth });
    expect(shown.json()).toMatchObject({ status: 'disabled' });
    expect(await deliveriesOf(t, subscription.id, 'dead')).toMatchObject([{ eventId: 'gone-1', lastStatusCode: 410 }]);
  });

  it('honours Retry-After on 429 and 503 instead of the ladder', async () => {
    const subscription = await subscribe(t, receiver.url);
    receiver.behave(() => ({ status: 429, headers: { 'retry-after': '120' } }));
    await publish(t, 'later-1');
    await t.dispatcher.runOnce();
    t.clock.advance(3_000); // past the ladder's 1 s, before the receiver's 120 s
    expect(await t.dispatcher.runOnce()).toBe(0);
    receiver.behave(() => ({ status: 200 }));
    t.clock.advance(120_000);
    await t.dispatcher.runOnce();
    expect(await deliveriesOf(t, subscription.id)).toMatchObject([{ status: 'delivered', attempts: 2 }]);
  });
});
