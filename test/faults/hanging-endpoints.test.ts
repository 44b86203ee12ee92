import { afterEach, beforeEach, expect, it } from 'vitest';
import { eventually } from '../delivery/helpers.js';
import { describeEachEngine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { createTestApp, sampleEvent, type TestApp } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';

const resource = 'urn:altinn:resource:isolation.test';

/**
 * Issue 12's first finding: consumer A's six endpoints answer the handshake and then never answer a delivery;
 * consumer B's one healthy endpoint on the same resource must not wait for them.
 */
describeEachEngine('Hanging endpoints of one consumer, on $name', (engine) => {
  let t: TestApp;
  let hanging: Receiver[] = [];
  let healthy: Receiver | undefined;
  beforeEach(async () => {
    // The default attempt timeout: a hanging attempt holds its slot for all of it.
    t = await createTestApp(engine, undefined, { timeoutMs: 30_000 });
    hanging = [];
    healthy = undefined;
  });
  afterEach(async () => {
    // Closing the receivers first ends the hanging attempts, so the dispatcher stops promptly.
    for (const receiver of hanging) await receiver.close();
    await healthy?.close();
    await t?.close();
  });

  const tokenOf = (org: string) => testToken({ claims: { org } });
  const subscribe = async (org: string, endPoint: string) => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/subscriptions',
      headers: { authorization: `Bearer ${await tokenOf(org)}` },
      payload: { endPoint, resourceFilter: resource },
    });
    expect(created.statusCode, created.body).toBe(201);
    return (created.json() as { id: number }).id;
  };
  const statusOf = async (org: string, id: number) => {
    const read = await t.app.inject({
      method: 'GET',
      url: `/events/api/v1/subscriptions/${id}`,
      headers: { authorization: `Bearer ${await tokenOf(org)}` },
    });
    return (read.json() as { status: string }).status;
  };

  it("another consumer's healthy endpoint gets a 40-event batch and 100 events at 10/s within 1 s (p99)", async () => {
    for (let i = 0; i < 6; i++) {
      const receiver = await startReceiver();
      hanging.push(receiver);
      // Answers the handshake, then never answers a delivery.
      receiver.behave((request) => (request.json.type === 'platform.events.validatesubscription' ? { status: 200 } : 'handled'));
    }
    healthy = await startReceiver();
    const alpha = await Promise.all(hanging.map((receiver) => subscribe('alpha', receiver.url)));
    const beta = await subscribe('beta', healthy.url);
    t.dispatcher.start();
    await eventually(async () => (await Promise.all([...alpha.map((id) => statusOf('alpha', id)), statusOf('beta', beta)])).every((s) => s === 'active'));

    const publisher = { authorization: `Bearer ${await testToken()}` };
    const sentAt = new Map<string, number>();
    const receivedAt = new Map<string, number>();
    healthy.behave((request) => {
      receivedAt.set(String(request.json.id), Date.now());
      return { status: 200 };
    });
    const publish = async (ids: string[]) => {
      for (const id of ids) sentAt.set(id, Date.now());
      const response = await t.app.inject({
        method: 'POST',
        url: '/events/api/v1/events',
        headers: { ...publisher, 'content-type': 'application/cloudevents-batch+json' },
        payload: JSON.stringify(ids.map((id) => sampleEvent({ id, resource }))),
      });
      expect(response.statusCode, response.body).toBe(200);
    };

    await publish(Array.from({ length: 40 }, (_, i) => `batch-${i}`));
    const started = Date.now();
    for (let i = 0; i < 100; i++) {
      const due = started + i * 100;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
      await publish([`paced-${i}`]);
    }
    await eventually(() => receivedAt.size === sentAt.size, 5_000).catch(() => {});

    const latencies = [...sentAt].map(([id, sent]) => (receivedAt.get(id) ?? Number.POSITIVE_INFINITY) - sent).sort((a, b) => a - b);
    const p99 = latencies[Math.ceil(latencies.length * 0.99) - 1] as number;
    // What was measured goes to the output, so a run shows its margin and not only that it passed.
    console.warn(`[isolation] ${engine.name}: healthy endpoint got ${receivedAt.size}/${sentAt.size}, p99 ${p99} ms, max ${latencies.at(-1)} ms`);
    expect(receivedAt.size, `the healthy endpoint received ${receivedAt.size} of ${sentAt.size} events`).toBe(sentAt.size);
    expect(p99).toBeLessThanOrEqual(1_000);
  }, 60_000);
});
