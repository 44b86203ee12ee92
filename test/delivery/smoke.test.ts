import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { createTestApp, sampleEvent, type TestApp } from '../support/test-app.js';

describeEachEngine('Webhook delivery smoke on $name', (engine) => {
  let t: TestApp;
  let receiver: Receiver;
  beforeAll(async () => {
    t = await createTestApp(engine);
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('validates, then delivers a signed event', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/subscriptions',
      headers: t.auth,
      payload: { endpoint: receiver.url, resourceFilter: 'urn:altinn:resource:dodsbo.domstoladmin.api' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const subscription = created.json();
    expect(await t.dispatcher.runOnce()).toBe(1);
    expect(receiver.received[0]?.json.type).toBe('platform.events.validatesubscription');
    const published = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/events',
      headers: { ...t.auth, 'content-type': 'application/cloudevents+json' },
      payload: sampleEvent({ id: 'smoke-1' }),
    });
    expect(published.statusCode).toBe(200);
    expect(await t.dispatcher.runOnce()).toBe(1);
    const [delivered] = receiver.events();
    expect(delivered?.json.id).toBe('smoke-1');
    const verified = new Webhook(subscription.secret).verify(delivered!.body, delivered!.headers as Record<string, string>);
    expect(verified).toMatchObject({ id: 'smoke-1' });
    const list = await t.app.inject({ method: 'GET', url: `/events/api/v1/subscriptions/${subscription.id}/deliveries`, headers: t.auth });
    expect(list.json().deliveries[0]).toMatchObject({ eventId: 'smoke-1', status: 'delivered', attempts: 1, lastStatusCode: 200 });
  });
});
