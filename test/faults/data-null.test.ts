import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { createTestApp, sampleEvent, type TestApp } from '../support/test-app.js';
import { eventsPath } from '../http/harness.js';
import { pullClient } from '../http/pull-harness.js';
import { eventually, subscribe } from '../delivery/helpers.js';

const resource = 'urn:altinn:resource:delivery.test';

describeEachEngine('"data": null is kept as null (CloudEvents JSON format §3.1.1), on $name', (engine) => {
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

  const publish = (payload: string, contentType: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url: eventsPath, headers: { ...t.auth, 'content-type': contentType, ...headers }, payload });

  async function poll(source: string): Promise<Record<string, unknown>[]> {
    const response = await t.app.inject({ method: 'GET', url: `${eventsPath}?${new URLSearchParams({ after: '0', source })}`, headers: t.auth });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  }

  it('keeps data: null through publish, poll, pull and push, and leaves an event without data without it', async () => {
    const source = `https://data-null.test/${crypto.randomUUID()}`;
    const withNull = sampleEvent({ source, resource, data: null });
    const withoutData = sampleEvent({ source, resource });
    const pull = pullClient(t.app, t.auth);
    const pullId = await pull.subscribe({ resourceFilter: resource });
    const push = await subscribe(t, receiver.url);
    expect(push.status).toBe('active');

    expect((await publish(JSON.stringify(withNull), 'application/cloudevents+json')).statusCode).toBe(200);
    expect((await publish(JSON.stringify([withoutData]), 'application/cloudevents-batch+json')).statusCode).toBe(200);

    const polled = await poll(source);
    expect(polled).toEqual([withNull, withoutData]);
    expect(polled[0]).toHaveProperty('data', null);
    expect(polled[1]).not.toHaveProperty('data');

    const page = await pull.page(pullId);
    expect(page.events).toEqual([withNull, withoutData]);
    expect(page.events[0]).toHaveProperty('data', null);

    await eventually(async () => {
      await t.dispatcher.runOnce();
      return receiver.events().length >= 2;
    });
    const pushed = receiver.events().map((r) => r.json);
    expect(pushed).toEqual([withNull, withoutData]);
    expect(pushed[0]).toHaveProperty('data', null);
  });

  it('keeps a binary-mode JSON body of null as data: null', async () => {
    const source = `https://data-null.test/${crypto.randomUUID()}`;
    const response = await publish('null', 'application/json', {
      'ce-specversion': '1.0',
      'ce-id': 'binary-null',
      'ce-source': source,
      'ce-type': 'no.altinn.events.test',
      'ce-resource': resource,
    });
    expect(response.statusCode, response.body).toBe(200);
    const [stored] = await poll(source);
    expect(stored).toHaveProperty('data', null);
  });

  it('drops a null data that comes with data_base64: the bytes are the data', async () => {
    const source = `https://data-null.test/${crypto.randomUUID()}`;
    const event = sampleEvent({ source, data: null, data_base64: 'aGk=' });
    expect((await publish(JSON.stringify(event), 'application/cloudevents+json')).statusCode).toBe(200);
    const [stored] = await poll(source);
    expect(stored).not.toHaveProperty('data');
    expect(stored).toHaveProperty('data_base64', 'aGk=');
  });
});
