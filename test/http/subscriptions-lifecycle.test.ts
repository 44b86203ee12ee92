import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { accept, startReceiver, type Receiver } from '../support/receiver.js';
import { baseUrl, createTestApp, sampleEvent, type TestApp } from '../support/test-app.js';
import { eventsPath, recordingInject } from './harness.js';

const subscriptionsPath = '/events/api/v1/subscriptions';
/** The resource `sampleEvent()` carries. */
const resource = 'urn:altinn:resource:dodsbo.domstoladmin.api';
/** The retry ladder the test app uses, and a step past each rung (the test dispatcher's jitter is zero). */
const ladder = { first: 1_000, second: 2_000 } as const;
const pastRung = (ms: number) => ms + 1;

describeEachEngine('A subscription from creation to deletion on $name', (engine) => {
  let t: TestApp;
  let http: ReturnType<typeof recordingInject>;
  let receiver: Receiver;

  // A Herald of its own for each test: a handshake one test leaves due must not show up in another's runOnce.
  beforeEach(async () => {
    t = await createTestApp(engine);
    http = recordingInject(t.app);
    receiver = await startReceiver();
  });
  afterEach(async () => {
    expect(http.takeServerErrors(), 'no request may be answered with a 5xx').toEqual([]);
    await t?.close();
    await receiver?.close();
  });

  async function subscribe(endpoint = receiver.url): Promise<{ id: number; secret: string }> {
    const response = await http.inject({
      method: 'POST',
      url: subscriptionsPath,
      headers: t.auth,
      payload: { endpoint, resourceFilter: resource },
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json();
  }

  async function read(id: number): Promise<Record<string, unknown>> {
    const response = await http.inject({ method: 'GET', url: `${subscriptionsPath}/${id}`, headers: t.auth });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  }

  async function publish(id: string): Promise<void> {
    const response = await http.inject({
      method: 'POST',
      url: eventsPath,
      headers: { ...t.auth, 'content-type': 'application/cloudevents+json' },
      payload: sampleEvent({ id }),
    });
    expect(response.statusCode, response.body).toBe(200);
  }

  /** The ids of the events the subscription has delivery rows for. */
  async function deliveriesOf(id: number): Promise<string[]> {
    const response = await http.inject({ method: 'GET', url: `${subscriptionsPath}/${id}/deliveries`, headers: t.auth });
    expect(response.statusCode, response.body).toBe(200);
    return response.json().deliveries.map((d: { eventId: string }) => d.eventId);
  }

  function revalidate(id: number) {
    return http.inject({ method: 'POST', url: `${subscriptionsPath}/${id}/validate`, headers: t.auth });
  }

  const handshakes = (r: Receiver = receiver) => r.received.filter((x) => x.json.type === 'platform.events.validatesubscription');

  describe('the validation handshake', () => {
    it("sends Altinn's validation event, signed, and activates the subscription on a 2xx", async () => {
      const { id, secret } = await subscribe();
      expect(await t.dispatcher.runOnce()).toBe(1);

      const [handshake] = receiver.received;
      expect(receiver.received).toHaveLength(1);
      expect(handshake?.json).toEqual({
        specversion: '1.0',
        id: expect.any(String),
        type: 'platform.events.validatesubscription',
        source: `${baseUrl}/events/api/v1/subscriptions/${id}`,
      });
      expect(handshake?.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
      expect(() => new Webhook(secret).verify(handshake!.body, handshake!.headers as Record<string, string>)).not.toThrow();

      const subscription = await read(id);
      expect(subscription).toMatchObject({ status: 'active', validated: true });
      expect(subscription).not.toHaveProperty('lastError');
      expect(subscription).not.toHaveProperty('nextValidationAt');
      expect(await t.dispatcher.runOnce()).toBe(0);
    });

    it('leaves the subscription pending with the error visible when the endpoint answers 500, and retries on the ladder', async () => {
      receiver.behave(() => ({ status: 500 }));
      const { id } = await subscribe();
      expect(await t.dispatcher.runOnce()).toBe(1);

      const failed = await read(id);
      expect(failed).toMatchObject({ status: 'pending', validated: false, lastError: 'Validation failed: The endpoint answered 500.' });
      const retryIn = Date.parse(failed.nextValidationAt as string) - t.clock.now();
      expect(retryIn).toBeGreaterThan(0);
      expect(retryIn).toBeLessThanOrEqual(ladder.first);

      // Not before its time.
      expect(await t.dispatcher.runOnce()).toBe(0);
      t.clock.advance(pastRung(ladder.first));
      expect(await t.dispatcher.runOnce()).toBe(1);
      expect(handshakes()).toHaveLength(2);
      expect(await read(id)).toMatchObject({ status: 'pending', validated: false });

      receiver.behave(accept);
      expect(await t.dispatcher.runOnce()).toBe(0);
      t.clock.advance(pastRung(ladder.second));
      expect(await t.dispatcher.runOnce()).toBe(1);
      const validated = await read(id);
      expect(validated).toMatchObject({ status: 'active', validated: true });
      expect(validated).not.toHaveProperty('lastError');
    });

    it('stops after the last rung, still pending with the last error, until asked to validate again', async () => {
      receiver.behave(() => ({ status: 503 }));
      const { id } = await subscribe();
      await t.dispatcher.runOnce();
      t.clock.advance(pastRung(ladder.first));
      await t.dispatcher.runOnce();
      t.clock.advance(pastRung(ladder.second));
      await t.dispatcher.runOnce();
      expect(handshakes()).toHaveLength(3);

      const givenUp = await read(id);
      expect(givenUp).toMatchObject({ status: 'pending', validated: false });
      expect(givenUp.lastError).toMatch(/503/);
      expect(givenUp).not.toHaveProperty('nextValidationAt');
      t.clock.advance(60 * 60_000);
      expect(await t.dispatcher.runOnce()).toBe(0);

      receiver.behave(accept);
      expect((await revalidate(id)).statusCode).toBe(202);
      expect(await t.dispatcher.runOnce()).toBe(1);
      expect(await read(id)).toMatchObject({ status: 'active', validated: true });
    });

    it('records an endpoint that does not answer at all', async () => {
      const gone = await startReceiver();
      const endpoint = gone.url;
      await gone.close();
      const { id } = await subscribe(endpoint);
      expect(await t.dispatcher.runOnce()).toBe(1);
      const subscription = await read(id);
      expect(subscription).toMatchObject({ status: 'pending', validated: false });
      expect(subscription.lastError).toMatch(/^Validation failed: /);
    });

    it('disables the subscription when the endpoint answers 410 Gone, and never tries it again', async () => {
      receiver.behave(() => ({ status: 410 }));
      const { id } = await subscribe();
      expect(await t.dispatcher.runOnce()).toBe(1);
      const disabled = await read(id);
      expect(disabled).toMatchObject({ status: 'disabled', validated: false });
      expect(disabled.lastError).toMatch(/410/);

      t.clock.advance(pastRung(ladder.second) * 10);
      expect(await t.dispatcher.runOnce()).toBe(0);
      await publish('after-410');
      expect(await deliveriesOf(id)).toEqual([]);
      expect(handshakes()).toHaveLength(1);
    });

    it('runs the handshake again on POST /validate (202), even for a subscription 410 disabled', async () => {
      receiver.behave(() => ({ status: 410 }));
      const { id } = await subscribe();
      await t.dispatcher.runOnce();
      expect((await read(id)).status).toBe('disabled');

      receiver.behave(accept);
      const response = await revalidate(id);
      expect(response.statusCode, response.body).toBe(202);
      expect(response.json()).toMatchObject({ id, status: 'pending' });
      expect(response.json()).not.toHaveProperty('secret');
      expect(await t.dispatcher.runOnce()).toBe(1);
      expect(handshakes()).toHaveLength(2);
      expect(await read(id)).toMatchObject({ status: 'active', validated: true });
    });

    it('re-validates an active subscription on demand', async () => {
      const { id } = await subscribe();
      await t.dispatcher.runOnce();
      expect((await revalidate(id)).statusCode).toBe(202);
      expect(await t.dispatcher.runOnce()).toBe(1);
      expect(handshakes()).toHaveLength(2);
      expect(await read(id)).toMatchObject({ status: 'active', validated: true });
    });

    // Standard Webhooks receivers drop a repeated webhook-id as a duplicate: each handshake needs its own.
    it('gives a re-validation handshake a webhook-id of its own', async () => {
      const { id } = await subscribe();
      await t.dispatcher.runOnce();
      await revalidate(id);
      await t.dispatcher.runOnce();
      const [first, second] = handshakes();
      expect(second?.json.id).not.toBe(first?.json.id);
      expect(second?.headers['webhook-id']).not.toBe(first?.headers['webhook-id']);
    });

    // Re-validating an active subscription must not make it miss the events published meanwhile.
    it('keeps queueing events for a validated subscription while it is re-validated', async () => {
      const { id } = await subscribe();
      await t.dispatcher.runOnce();
      await revalidate(id);
      await publish('during-revalidation');
      expect(await deliveriesOf(id)).toEqual(['during-revalidation']);
    });
  });

  describe('which subscriptions receive events', () => {
    it('gives a pending subscription no delivery, and the very next event after validation one', async () => {
      const { id } = await subscribe();
      await publish('before-validation');
      expect(await deliveriesOf(id)).toEqual([]);

      expect(await t.dispatcher.runOnce()).toBe(1);
      await publish('right-after-validation');
      expect(await deliveriesOf(id)).toEqual(['right-after-validation']);
      expect(await t.dispatcher.runOnce()).toBe(1);
      expect(receiver.events().map((r) => r.json.id)).toEqual(['right-after-validation']);
    });

    it('stops at once after DELETE: the next event creates no delivery and publishing still succeeds', async () => {
      const other = await startReceiver();
      try {
        const kept = await subscribe(other.url);
        const deleted = await subscribe();
        await t.dispatcher.runOnce();
        await publish('before-delete');
        expect(await t.dispatcher.runOnce()).toBe(2);

        const response = await http.inject({ method: 'DELETE', url: `${subscriptionsPath}/${deleted.id}`, headers: t.auth });
        expect(response.statusCode, response.body).toBe(200);
        // The DELETE answers before this process's match index is rebuilt. On PostgreSQL a publish that beats
        // the rebuild fails with 503 (about 1 in 15 tries): the bug shown in subscriptions-processes.test.ts.
        // Waiting for the rebuild keeps this test about what happens once it is done.
        await t.registry.reload();
        await publish('after-delete');
        expect(await deliveriesOf(kept.id)).toEqual(['before-delete', 'after-delete']);
        expect(await t.store.deliveries.list(deleted.id, undefined, 0, 100)).toEqual([]);
        expect(await t.dispatcher.runOnce()).toBe(1);
        expect(receiver.events().map((r) => r.json.id)).toEqual(['before-delete']);
        expect(other.events().map((r) => r.json.id)).toEqual(['before-delete', 'after-delete']);
      } finally {
        await other.close();
      }
    });

    it('drops the deliveries still queued for a subscription that is deleted', async () => {
      const { id } = await subscribe();
      await t.dispatcher.runOnce();
      receiver.behave(() => ({ status: 500 }));
      await publish('queued');
      await t.dispatcher.runOnce();
      expect(await t.store.deliveries.list(id, 'failed', 0, 10)).toHaveLength(1);
      await http.inject({ method: 'DELETE', url: `${subscriptionsPath}/${id}`, headers: t.auth });
      t.clock.advance(pastRung(ladder.second));
      expect(await t.dispatcher.runOnce()).toBe(0);
      expect(receiver.events()).toHaveLength(1);
    });
  });
});
