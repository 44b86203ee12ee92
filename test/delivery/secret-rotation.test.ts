import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { type ReceivedRequest, type Receiver, startReceiver } from '../support/receiver.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { deliveriesOf, publish, subscribe } from './helpers.js';

const subscriptionsPath = '/events/api/v1/subscriptions';

/** Whether a receiver holding only `secret` accepts the request, as the standardwebhooks library decides. */
function verifies(secret: string, request: ReceivedRequest): boolean {
  try {
    new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
}

const signatureCount = (request: ReceivedRequest) => String(request.headers['webhook-signature']).split(' ').length;

describeEachEngine('Rotating the signing secret on $name', (engine) => {
  let t: TestApp;
  let receiver: Receiver;
  beforeEach(async () => {
    t = await createTestApp(engine, undefined, { schedule: [1_000, 2_000], timeoutMs: 500 });
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await t?.close();
    await receiver?.close();
  });

  async function rotate(id: number, body?: unknown) {
    const response = await t.app.inject({
      method: 'POST',
      url: `${subscriptionsPath}/${id}/secret/rotate`,
      headers: { authorization: `Bearer ${await testToken()}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    return response.json() as { subscriptionId: number; secret: string; previousSecretExpires?: string };
  }

  /** Publishes one event and sends it; returns the request the receiver got. */
  async function deliverOne(id: string): Promise<ReceivedRequest> {
    await publish(t, id);
    await t.dispatcher.runOnce();
    const request = receiver.events().find((r) => r.json.id === id);
    expect(request, `the receiver got ${id}`).toBeDefined();
    return request as ReceivedRequest;
  }

  it('during the grace period both secrets verify every delivery; after it only the new one does', async () => {
    const subscription = await subscribe(t, receiver.url);
    const old = subscription.secret;
    expect(verifies(old, await deliverOne('before'))).toBe(true);

    const at = t.clock.now();
    const rotated = await rotate(subscription.id, { graceSeconds: 3600 });
    expect(rotated.subscriptionId).toBe(subscription.id);
    expect(rotated.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(rotated.secret).not.toBe(old);
    const expires = Date.parse(rotated.previousSecretExpires ?? '');
    expect(expires).toBeGreaterThanOrEqual(at + 3_600_000);
    expect(expires).toBeLessThanOrEqual(t.clock.now() + 3_600_000);

    const during = await deliverOne('during');
    expect(signatureCount(during)).toBe(2);
    expect(verifies(rotated.secret, during)).toBe(true);
    expect(verifies(old, during)).toBe(true);

    // The grace period ends (the clock moves; nothing sleeps).
    t.clock.advance(3_600_000 + 1_000);
    const after = await deliverOne('after');
    expect(signatureCount(after)).toBe(1);
    expect(verifies(rotated.secret, after)).toBe(true);
    expect(verifies(old, after)).toBe(false);
    expect(await deliveriesOf(t, subscription.id)).toMatchObject([
      { eventId: 'before', status: 'delivered' },
      { eventId: 'during', status: 'delivered' },
      { eventId: 'after', status: 'delivered' },
    ]);
  });

  it('a receiver that kept only the old secret fails once the grace period is over', async () => {
    const subscription = await subscribe(t, receiver.url);
    const old = subscription.secret;
    // This receiver never took the new secret: it refuses what it cannot verify.
    receiver.behave((request) => ({ status: verifies(old, request) ? 200 : 401 }));
    const rotated = await rotate(subscription.id, { graceSeconds: 60 });
    await deliverOne('within-grace');
    t.clock.advance(61_000);
    await deliverOne('past-grace');
    const [within, past] = await deliveriesOf(t, subscription.id);
    expect(within).toMatchObject({ eventId: 'within-grace', status: 'delivered' });
    expect(past).toMatchObject({ eventId: 'past-grace', status: 'failed', lastStatusCode: 401 });
    // Its retry, once the receiver has the new secret, goes through.
    receiver.behave((request) => ({ status: verifies(rotated.secret, request) ? 200 : 401 }));
    t.clock.advance(1_100);
    await t.dispatcher.runOnce();
    expect((await deliveriesOf(t, subscription.id))[1]).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('with no body the grace period is 24 hours', async () => {
    const subscription = await subscribe(t, receiver.url);
    const before = t.clock.now();
    const rotated = await rotate(subscription.id);
    const expires = Date.parse(rotated.previousSecretExpires ?? '');
    expect(expires).toBeGreaterThanOrEqual(before + 86_400_000);
    expect(expires).toBeLessThanOrEqual(t.clock.now() + 86_400_000);
    t.clock.advance(86_400_000 - 60_000);
    expect(verifies(subscription.secret, await deliverOne('a-day-less-a-minute'))).toBe(true);
    t.clock.advance(61_000);
    expect(verifies(subscription.secret, await deliverOne('a-day-and-a-second'))).toBe(false);
  });

  it('a grace of 0 stops the old secret at once', async () => {
    const subscription = await subscribe(t, receiver.url);
    const rotated = await rotate(subscription.id, { graceSeconds: 0 });
    expect(rotated).not.toHaveProperty('previousSecretExpires');
    const request = await deliverOne('at-once');
    expect(signatureCount(request)).toBe(1);
    expect(verifies(rotated.secret, request)).toBe(true);
    expect(verifies(subscription.secret, request)).toBe(false);
  });

  it('rotating again during a grace period keeps the two newest secrets: the oldest stops signing', async () => {
    const subscription = await subscribe(t, receiver.url);
    const second = await rotate(subscription.id, { graceSeconds: 3600 });
    const third = await rotate(subscription.id, { graceSeconds: 600 });
    const request = await deliverOne('third');
    expect(signatureCount(request)).toBe(2);
    expect(verifies(third.secret, request)).toBe(true);
    expect(verifies(second.secret, request)).toBe(true);
    expect(verifies(subscription.secret, request)).toBe(false);
    // The replaced secret's grace is the latest rotation's: 10 minutes, not the hour the one before gave.
    t.clock.advance(601_000);
    const later = await deliverOne('later');
    expect(verifies(third.secret, later)).toBe(true);
    expect(verifies(second.secret, later)).toBe(false);
  });

  it('a retry of a delivery that failed before the rotation carries the new signature', async () => {
    const subscription = await subscribe(t, receiver.url);
    receiver.behave(() => ({ status: 500 }));
    const first = await deliverOne('retried');
    expect(verifies(subscription.secret, first)).toBe(true);
    const rotated = await rotate(subscription.id, { graceSeconds: 0 });
    receiver.behave(() => ({ status: 200 }));
    t.clock.advance(1_100);
    await t.dispatcher.runOnce();
    const retry = receiver.events().filter((r) => r.json.id === 'retried')[1];
    expect(retry?.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(verifies(rotated.secret, retry as ReceivedRequest)).toBe(true);
    expect(verifies(subscription.secret, retry as ReceivedRequest)).toBe(false);
  });

  it('the validation handshake is signed like a delivery: by both secrets during the grace period', async () => {
    const subscription = await subscribe(t, receiver.url);
    const rotated = await rotate(subscription.id, { graceSeconds: 3600 });
    const validate = await t.app.inject({
      method: 'POST',
      url: `${subscriptionsPath}/${subscription.id}/validate`,
      headers: { authorization: `Bearer ${await testToken()}` },
    });
    expect(validate.statusCode, validate.body).toBe(202);
    await t.dispatcher.runOnce();
    const handshakes = receiver.received.filter((r) => r.json.type === 'platform.events.validatesubscription');
    expect(handshakes).toHaveLength(2);
    const handshake = handshakes[1] as ReceivedRequest;
    expect(verifies(rotated.secret, handshake)).toBe(true);
    expect(verifies(subscription.secret, handshake)).toBe(true);
  });

  it('a ping is signed like a delivery: by both secrets during the grace period, by the new one after it', async () => {
    const subscription = await subscribe(t, receiver.url);
    const old = subscription.secret;
    const rotated = await rotate(subscription.id, { graceSeconds: 3600 });
    const ping = async () => {
      const before = receiver.received.length;
      const answer = await t.app.inject({
        method: 'POST',
        url: `${subscriptionsPath}/${subscription.id}/ping`,
        headers: { authorization: `Bearer ${await testToken()}` },
      });
      expect(answer.statusCode, answer.body).toBe(200);
      const request = receiver.received.slice(before).find((r) => r.json.type === 'herald.ping');
      expect(request, 'the receiver got the ping').toBeDefined();
      return request as ReceivedRequest;
    };

    const during = await ping();
    expect(signatureCount(during)).toBe(2);
    expect(verifies(rotated.secret, during)).toBe(true);
    expect(verifies(old, during)).toBe(true);

    t.clock.advance(3_600_000 + 1_000);
    const after = await ping();
    expect(signatureCount(after)).toBe(1);
    expect(verifies(rotated.secret, after)).toBe(true);
    expect(verifies(old, after)).toBe(false);
  });

  it('shows the new secret only in the answer to the rotation: not in the subscription, its list, or metrics', async () => {
    const subscription = await subscribe(t, receiver.url);
    const rotated = await rotate(subscription.id, { graceSeconds: 3600 });
    const auth = { authorization: `Bearer ${await testToken()}` };
    const one = await t.app.inject({ method: 'GET', url: `${subscriptionsPath}/${subscription.id}`, headers: auth });
    const list = await t.app.inject({ method: 'GET', url: subscriptionsPath, headers: auth });
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    for (const response of [one, list, metrics]) {
      for (const secret of [rotated.secret, subscription.secret]) {
        expect(response.body).not.toContain(secret);
        expect(response.body).not.toContain(secret.slice('whsec_'.length));
      }
    }
    expect(one.json()).not.toHaveProperty('secret');
    expect(one.json()).not.toHaveProperty('previousSecret');
    // When the grace period ends is shown; the secrets are not.
    expect(one.json()).toMatchObject({ previousSecretExpires: rotated.previousSecretExpires });
  });
});
