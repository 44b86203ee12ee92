import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { createTestApp, sampleEvent, type TestApp } from '../support/test-app.js';
import { countRows, dayMs, hourMs, rawSql, retentionOf } from '../store/retention-harness.js';
import { deliveriesOf, publish, resource, subscribe } from './helpers.js';

type Attempt = Record<string, unknown> & { statusCode?: number; body?: string; errorKind?: string };

/** A loopback port nothing listens on: connecting is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describeEachEngine('Every attempt on record on $name', (engine) => {
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

  const api = (subscriptionId: number, rest = '') => `/events/api/v1/subscriptions/${subscriptionId}${rest}`;
  const get = async (url: string) => {
    const response = await t.app.inject({ method: 'GET', url, headers: t.auth });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as Record<string, unknown>;
  };
  const attemptsOf = async (subscriptionId: number, deliveryId: unknown) =>
    (await get(api(subscriptionId, `/deliveries/${String(deliveryId)}/attempts?size=100`))).attempts as Attempt[];
  const only = async (subscriptionId: number) => {
    const [delivery] = await deliveriesOf(t, subscriptionId);
    return delivery as Record<string, unknown> & { id: number };
  };
  /** Walks the whole test ladder (three attempts). */
  const exhaustLadder = async () => {
    for (const wait of [0, 1_100, 2_200]) {
      t.clock.advance(wait);
      await t.dispatcher.runOnce();
    }
  };

  it('records a 2xx attempt with its status, headers, body and duration, and shows it on the delivery', async () => {
    const subscription = await subscribe(t, receiver.url);
    receiver.behave(() => ({ status: 202, headers: { 'content-type': 'text/plain', 'x-receipt': 'r-1' }, body: 'thanks' }));
    await publish(t, 'ok-1');
    await t.dispatcher.runOnce();
    const [request] = receiver.events();
    expect(new Webhook(subscription.secret).verify(request!.body, request!.headers as Record<string, string>)).toMatchObject({ id: 'ok-1' });
    const delivery = await only(subscription.id);
    const [attempt] = await attemptsOf(subscription.id, delivery.id);
    expect(attempt).toMatchObject({ statusCode: 202, body: 'thanks', bodyTruncated: false, headers: { 'content-type': 'text/plain', 'x-receipt': 'r-1' } });
    expect(attempt).not.toHaveProperty('errorKind');
    expect(typeof attempt!.durationMs).toBe('number');
    expect(Date.parse(String(attempt!.started))).not.toBeNaN();
    const detail = await get(api(subscription.id, `/deliveries/${delivery.id}`));
    expect(detail).toMatchObject({
      id: delivery.id,
      eventId: 'ok-1',
      status: 'delivered',
      attempts: 1,
      lastStatusCode: 202,
      webhookId: request!.headers['webhook-id'],
      lastAttempt: { statusCode: 202, body: 'thanks' },
    });
  });

  it('records each attempt of a ladder in order: a 5xx with its body, then a timeout, then a refused connection', async () => {
    const port = await closedPort();
    const subscription = await subscribe(t, receiver.url);
    let calls = 0;
    // The endpoint answers 503, then hangs past the time limit, then is gone.
    receiver.behave((_request, response) => {
      calls++;
      if (calls === 1) return { status: 503, body: '{"error":"overloaded"}', headers: { 'content-type': 'application/json' } };
      // Never answered: the response is left open until the receiver closes.
      void response;
      return 'handled';
    });
    await publish(t, 'ladder-1');
    await t.dispatcher.runOnce();
    t.clock.advance(1_100);
    await t.dispatcher.runOnce();
    // The third attempt goes to an endpoint that refuses connections.
    await rawSql(engine, t.db.database, 'UPDATE subscriptions SET endpoint = $1 WHERE id = $2', [`http://127.0.0.1:${port}/hook`, subscription.id]);
    await t.registry.refresh([subscription.id]);
    t.clock.advance(2_200);
    await t.dispatcher.runOnce();
    const delivery = await only(subscription.id);
    expect(delivery).toMatchObject({ status: 'dead', attempts: 3, lastErrorKind: 'refused' });
    const attempts = await attemptsOf(subscription.id, delivery.id);
    expect(attempts.map((a) => a.statusCode ?? a.errorKind)).toEqual([503, 'timeout', 'refused']);
    expect(attempts[0]).toMatchObject({ body: '{"error":"overloaded"}', headers: { 'content-type': 'application/json' } });
    expect(attempts[1]).toMatchObject({ error: 'No answer within 500 ms.' });
    expect(attempts[2]).toMatchObject({ error: 'The endpoint refused the connection.' });
    const ids = attempts.map((a) => a.id as number);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it('keeps only the first 4 KiB of a 1 MiB answer, and says it was cut', async () => {
    const subscription = await subscribe(t, receiver.url);
    receiver.behave(() => ({ status: 500, body: 'x'.repeat(1024 * 1024) }));
    await publish(t, 'big-1');
    await t.dispatcher.runOnce();
    const delivery = await only(subscription.id);
    const [attempt] = await attemptsOf(subscription.id, delivery.id);
    expect(attempt!.body).toBe('x'.repeat(4096));
    expect(attempt!.bodyTruncated).toBe(true);
  });

  it('pages attempts by id, oldest first', async () => {
    const subscription = await subscribe(t, receiver.url);
    receiver.behave(() => ({ status: 500 }));
    await publish(t, 'pages-1');
    await exhaustLadder();
    const delivery = await only(subscription.id);
    const first = await get(api(subscription.id, `/deliveries/${delivery.id}/attempts?size=2`));
    expect(first.count).toBe(2);
    expect(typeof first.next).toBe('string');
    const second = await get(String(first.next));
    expect(second.count).toBe(1);
    expect(second).not.toHaveProperty('next');
  });

  it('resends a dead delivery under the same webhook-id with a fresh ladder, and keeps its earlier attempts', async () => {
    const subscription = await subscribe(t, receiver.url);
    receiver.behave(() => ({ status: 500 }));
    await publish(t, 'resend-dead');
    await exhaustLadder();
    const dead = await only(subscription.id);
    expect(dead).toMatchObject({ status: 'dead', attempts: 3 });
    receiver.behave(() => ({ status: 200, body: 'ok now' }));
    const resend = await t.app.inject({ method: 'POST', url: api(subscription.id, `/deliveries/${dead.id}/resend`), headers: t.auth });
    expect(resend.statusCode, resend.body).toBe(200);
    expect(resend.json()).toMatchObject({ status: 'pending', attempts: 0 });
    await t.dispatcher.runOnce();
    const requests = receiver.events();
    expect(requests).toHaveLength(4);
    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(new Webhook(subscription.secret).verify(requests[3]!.body, requests[3]!.headers as Record<string, string>)).toMatchObject({ id: 'resend-dead' });
    expect(await only(subscription.id)).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 200 });
    expect((await attemptsOf(subscription.id, dead.id)).map((a) => a.statusCode)).toEqual([500, 500, 500, 200]);
  });

  it('resends a delivered delivery', async () => {
    const subscription = await subscribe(t, receiver.url);
    await publish(t, 'resend-delivered');
    await t.dispatcher.runOnce();
    const delivered = await only(subscription.id);
    expect(delivered.status).toBe('delivered');
    const resend = await t.app.inject({ method: 'POST', url: api(subscription.id, `/deliveries/${delivered.id}/resend`), headers: t.auth });
    expect(resend.statusCode, resend.body).toBe(200);
    await t.dispatcher.runOnce();
    expect(receiver.events().map((r) => r.json.id)).toEqual(['resend-delivered', 'resend-delivered']);
    expect(await attemptsOf(subscription.id, delivered.id)).toHaveLength(2);
  });

  it("keeps one in flight per key: a resent delivery waiting behind its key's head stays there", async () => {
    const subscription = await subscribe(t, receiver.url, { ordering: 'subject' });
    receiver.behave((request) => ({ status: request.json.id === 'k-1' ? 500 : 200 }));
    const events = ['k-1', 'k-2'].map((id) => sampleEvent({ id, resource, subject: '/party/1' }));
    const published = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/events',
      headers: { ...t.auth, 'content-type': 'application/cloudevents-batch+json' },
      payload: JSON.stringify(events),
    });
    expect(published.statusCode).toBe(200);
    await t.dispatcher.runOnce();
    const [, second] = await deliveriesOf(t, subscription.id);
    const resend = await t.app.inject({ method: 'POST', url: api(subscription.id, `/deliveries/${String(second!.id)}/resend`), headers: t.auth });
    expect(resend.statusCode, resend.body).toBe(200);
    expect(resend.json()).not.toHaveProperty('nextAttemptAt');
    await t.dispatcher.runOnce();
    // Only the key's head went: k-2 still waits behind k-1's retry.
    expect(receiver.events().map((r) => r.json.id)).toEqual(['k-1']);
    // A dead head moves the key on; resent, it goes again once nothing else of its key is under way.
    t.clock.advance(1_100);
    await t.dispatcher.runOnce();
    t.clock.advance(2_200);
    await t.dispatcher.runOnce();
    await t.dispatcher.runOnce();
    expect(receiver.events().map((r) => r.json.id)).toEqual(['k-1', 'k-1', 'k-1', 'k-2']);
    const [first] = await deliveriesOf(t, subscription.id);
    receiver.behave(() => ({ status: 200 }));
    const again = await t.app.inject({ method: 'POST', url: api(subscription.id, `/deliveries/${String(first!.id)}/resend`), headers: t.auth });
    expect(again.statusCode, again.body).toBe(200);
    await t.dispatcher.runOnce();
    expect(receiver.events().map((r) => r.json.id)).toEqual(['k-1', 'k-1', 'k-1', 'k-2', 'k-1']);
    expect((await deliveriesOf(t, subscription.id)).map((d) => d.status)).toEqual(['delivered', 'delivered']);
  });

  it('pings the endpoint with a signed herald.ping event and answers with the attempt', async () => {
    const subscription = await subscribe(t, receiver.url);
    receiver.behave(() => ({ status: 200, body: 'pong' }));
    const ping = await t.app.inject({ method: 'POST', url: api(subscription.id, '/ping'), headers: t.auth });
    expect(ping.statusCode, ping.body).toBe(200);
    const answer = ping.json() as { webhookId: string; eventId: string; delivered: boolean; attempt: Attempt };
    expect(answer).toMatchObject({ delivered: true, attempt: { statusCode: 200, body: 'pong', bodyTruncated: false } });
    const [request] = receiver.events();
    expect(request!.headers['webhook-id']).toBe(answer.webhookId);
    expect(new Webhook(subscription.secret).verify(request!.body, request!.headers as Record<string, string>)).toMatchObject({
      type: 'herald.ping',
      id: answer.eventId,
      specversion: '1.0',
    });
    // Nothing stored: no delivery.
    expect(await deliveriesOf(t, subscription.id)).toEqual([]);

    receiver.behave(() => ({ status: 502, body: 'bad gateway' }));
    const failing = await t.app.inject({ method: 'POST', url: api(subscription.id, '/ping'), headers: t.auth });
    expect(failing.json()).toMatchObject({ delivered: false, attempt: { statusCode: 502, body: 'bad gateway' } });
  });

  it('pings an endpoint that refuses connections and answers with the error', async () => {
    const subscription = await subscribe(t, receiver.url);
    await rawSql(engine, t.db.database, 'UPDATE subscriptions SET endpoint = $1 WHERE id = $2', [`http://127.0.0.1:${await closedPort()}/hook`, subscription.id]);
    const ping = await t.app.inject({ method: 'POST', url: api(subscription.id, '/ping'), headers: t.auth });
    expect(ping.statusCode, ping.body).toBe(200);
    expect(ping.json()).toMatchObject({ delivered: false, attempt: { errorKind: 'refused', error: 'The endpoint refused the connection.' } });
  });

  it('redrives only the dead letters a filter takes: by status code, by error kind, by when they died', async () => {
    const subscription = await subscribe(t, receiver.url);
    receiver.behave((request) => (request.json.id === 'slow' ? 'handled' : { status: request.json.id === 'busy' ? 503 : 500 }));
    await publish(t, 'busy', 'slow', 'broken');
    await exhaustLadder();
    expect((await deliveriesOf(t, subscription.id, 'dead')).map((d) => d.eventId)).toEqual(['busy', 'slow', 'broken']);
    const redrive = (payload?: unknown) =>
      t.app.inject({
        method: 'POST',
        url: api(subscription.id, '/deliveries/redrive'),
        headers: { ...t.auth, 'content-type': 'application/json' },
        ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
      });
    // Died before the ladder ran out: nothing.
    const before = new Date(t.clock.now() - 60_000).toISOString();
    expect((await redrive({ diedUntil: before })).json()).toEqual({ redriven: 0 });
    expect((await redrive({ statusCode: 503 })).json()).toEqual({ redriven: 1 });
    expect((await deliveriesOf(t, subscription.id, 'dead')).map((d) => d.eventId)).toEqual(['slow', 'broken']);
    expect((await redrive({ errorKind: 'timeout', diedFrom: before })).json()).toEqual({ redriven: 1 });
    expect((await deliveriesOf(t, subscription.id, 'dead')).map((d) => d.eventId)).toEqual(['broken']);
    // No body: everything dead, as before.
    expect((await redrive()).json()).toEqual({ redriven: 1 });
    expect(await deliveriesOf(t, subscription.id, 'dead')).toEqual([]);
  });

  it('removes attempts with their deliveries when retention removes them', async () => {
    // Finished deliveries are kept longer than events here: the events' retention is what removes them.
    const retention = retentionOf(t, 90 * dayMs, 365 * dayMs);
    const subscription = await subscribe(t, receiver.url);
    receiver.behave(() => ({ status: 500 }));
    await publish(t, 'old-1');
    await t.dispatcher.runOnce();
    await retention.runOnce();
    // More than a partition's span later (PostgreSQL), so old and young lie in different partitions.
    t.clock.advance(8 * dayMs);
    await retention.runOnce();
    receiver.behave(() => ({ status: 200 }));
    await publish(t, 'young-1');
    // The old one's retry and the young one.
    await t.dispatcher.runOnce();
    expect(await countRows(engine, t.db.database, 'delivery_attempts')).toBe(3);
    t.clock.advance(90 * dayMs + hourMs);
    await retention.runOnce();
    expect(await countRows(engine, t.db.database, 'events')).toBe(1);
    expect((await deliveriesOf(t, subscription.id)).map((d) => d.eventId)).toEqual(['young-1']);
    expect(await countRows(engine, t.db.database, 'delivery_attempts')).toBe(1);
  });

  it('removes attempts with a finished delivery swept after HERALD_DELIVERY_RETENTION, and with a deleted subscription', async () => {
    const retention = retentionOf(t, 90 * dayMs, 1 * dayMs);
    const subscription = await subscribe(t, receiver.url);
    await publish(t, 'swept-1');
    await t.dispatcher.runOnce();
    await retention.runOnce();
    expect(await countRows(engine, t.db.database, 'delivery_attempts')).toBe(1);
    t.clock.advance(2 * dayMs);
    await retention.runOnce();
    expect(await deliveriesOf(t, subscription.id)).toEqual([]);
    expect(await countRows(engine, t.db.database, 'delivery_attempts')).toBe(0);

    await publish(t, 'deleted-1');
    await t.dispatcher.runOnce();
    expect(await countRows(engine, t.db.database, 'delivery_attempts')).toBe(1);
    const deleted = await t.app.inject({ method: 'DELETE', url: api(subscription.id), headers: t.auth });
    expect(deleted.statusCode).toBeLessThan(300);
    expect(await countRows(engine, t.db.database, 'delivery_attempts')).toBe(0);
  });
});
