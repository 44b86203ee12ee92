import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { createTestApp, sampleEvent, type TestApp } from '../support/test-app.js';

const resource = 'urn:altinn:resource:pull.test';

describeEachEngine('Pull subscriptions on $name', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(engine);
  });
  afterAll(async () => {
    await t?.close();
  });

  const publish = async (...ids: string[]) => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/events',
      headers: { ...t.auth, 'content-type': 'application/cloudevents-batch+json' },
      payload: JSON.stringify(ids.map((id) => sampleEvent({ id, resource }))),
    });
    expect(response.statusCode).toBe(200);
  };
  const read = async (id: number, query = '') => {
    const response = await t.app.inject({ method: 'GET', url: `/events/api/v1/subscriptions/${id}/events${query}`, headers: t.auth });
    return response;
  };

  it('queues events for a subscription without an endpoint and acknowledges them page by page', async () => {
    const created = await t.app.inject({ method: 'POST', url: '/events/api/v1/subscriptions', headers: t.auth, payload: { resourceFilter: resource } });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json();
    await publish('p1', 'p2', 'p3');
    const first = await read(id, '?limit=2');
    expect(first.statusCode, first.body).toBe(200);
    const page1 = first.json();
    expect(page1.events.map((e: { id: string }) => e.id)).toEqual(['p1', 'p2']);
    const again = (await read(id, '?limit=2')).json();
    expect(again.events.map((e: { id: string }) => e.id)).toEqual(['p1', 'p2']);
    const second = (await read(id, `?limit=2&checkPoint=${encodeURIComponent(page1.checkPoint)}`)).json();
    expect(second.events.map((e: { id: string }) => e.id)).toEqual(['p3']);
    const third = (await read(id, `?limit=2&checkPoint=${encodeURIComponent(second.checkPoint)}`)).json();
    expect(third.events).toEqual([]);
  });
});
