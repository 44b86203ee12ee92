import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultHealthThresholds } from '../../src/domain/endpoint-health.js';
import { scopes } from '../../src/domain/identity.js';
import { describeEachEngine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { createTestApp, defaultLimits, sampleEvent, type TestApp } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { eventsPath, recordingInject } from './harness.js';

const subscriptionsPath = '/events/api/v1/subscriptions';
const resource = 'urn:altinn:resource:dodsbo.domstoladmin.api';
/** The test app's retry ladder: a first attempt, then two retries 1 s and 2 s later (jitter zero). */
const ladder = [1_000, 2_000];

/**
 * `backlog` and `deadLetters` on subscriptions (docs/subscriptions.md) match what the deliveries listing and the
 * pull queue show: a loopback receiver that fails every event makes dead letters, a pull queue holds unread events.
 */
describeEachEngine('Backlog and dead letters on $name', (engine) => {
  let t: TestApp;
  let http: ReturnType<typeof recordingInject>;
  let receiver: Receiver;
  let operator: { authorization: string };
  const ids = { failing: 0, pull: 0 };

  const read = async (id: number, auth = t.auth) => {
    const response = await http.inject({ method: 'GET', url: `${subscriptionsPath}/${id}`, headers: auth });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as { backlog: number; deadLetters: number; countsCapped?: boolean };
  };
  const listed = async (url: string, auth = t.auth) => {
    const response = await http.inject({ method: 'GET', url, headers: auth });
    expect(response.statusCode, response.body).toBe(200);
    return new Map((response.json().subscriptions as { id: number; backlog: number; deadLetters: number }[]).map((s) => [s.id, s]));
  };
  const deliveriesIn = async (id: number, status: string) => {
    const response = await http.inject({ method: 'GET', url: `${subscriptionsPath}/${id}/deliveries?size=1000&status=${status}`, headers: t.auth });
    return (response.json().deliveries as unknown[]).length;
  };

  beforeAll(async () => {
    t = await createTestApp(engine, defaultLimits, {
      schedule: ladder,
      // The breaker must not suspend the failing endpoint before its deliveries run out of attempts.
      health: { ...defaultHealthThresholds, failureThreshold: 1_000 },
    });
    http = recordingInject(t.app);
    // The handshake passes; every event is answered 500.
    receiver = await startReceiver((request) => ({ status: request.json.type === 'platform.events.validatesubscription' ? 200 : 500 }));
    operator = { authorization: `Bearer ${await testToken({ scope: scopes.operator, claims: { org: 'ops' } })}` };
    for (const [name, body] of [
      ['failing', { endPoint: receiver.url, resourceFilter: resource }],
      ['pull', { resourceFilter: resource }],
    ] as const) {
      const made = await http.inject({ method: 'POST', url: subscriptionsPath, headers: t.auth, payload: body });
      expect(made.statusCode, made.body).toBe(201);
      ids[name] = made.json().id;
    }
    await t.dispatcher.runOnce(); // the handshake
    const published = await http.inject({
      method: 'POST',
      url: eventsPath,
      headers: { ...t.auth, 'content-type': 'application/cloudevents-batch+json' },
      payload: JSON.stringify([sampleEvent(), sampleEvent(), sampleEvent()]),
    });
    expect(published.statusCode, published.body).toBe(200);
  });
  afterAll(async () => {
    expect(http.takeServerErrors()).toEqual([]);
    await t?.close();
    await receiver?.close();
  });

  it('counts what waits before anything is sent, for push and pull alike', async () => {
    expect(await read(ids.failing)).toMatchObject({ backlog: 3, deadLetters: 0 });
    expect(await read(ids.pull)).toMatchObject({ backlog: 3, deadLetters: 0 });
    expect((await read(ids.pull)).countsCapped).toBeUndefined();
  });

  it('keeps a failed delivery waiting for its retry in the backlog, and counts it dead once out of attempts', async () => {
    await t.dispatcher.runOnce();
    expect(await deliveriesIn(ids.failing, 'failed')).toBe(3);
    expect(await read(ids.failing)).toMatchObject({ backlog: 3, deadLetters: 0 });
    for (const wait of ladder) {
      t.clock.advance(wait + 1);
      await t.dispatcher.runOnce();
    }
    expect(await deliveriesIn(ids.failing, 'dead')).toBe(3);
    expect(await read(ids.failing)).toMatchObject({ backlog: 0, deadLetters: 3 });
  });

  it('shows the same counts in the listing, the operator\'s listing and the operator\'s read', async () => {
    const own = await listed(subscriptionsPath);
    const everyone = await listed(`${subscriptionsPath}?consumer=*`, operator);
    for (const page of [own, everyone]) {
      expect(page.get(ids.failing)).toMatchObject({ backlog: 0, deadLetters: 3 });
      expect(page.get(ids.pull)).toMatchObject({ backlog: 3, deadLetters: 0 });
    }
    expect(await read(ids.failing, operator)).toMatchObject({ backlog: 0, deadLetters: 3 });
  });

  it('stops a count at its cap and says so', async () => {
    const counts = await t.store.deliveries.counts.bySubscription([ids.failing, ids.pull], 2);
    expect(counts.get(ids.failing)).toEqual({ backlog: 0, deadLetters: 2, capped: true });
    expect(counts.get(ids.pull)).toEqual({ backlog: 2, deadLetters: 0, capped: true });
    expect(await t.store.deliveries.counts.bySubscription([ids.pull], 3)).toEqual(new Map([[ids.pull, { backlog: 3, deadLetters: 0, capped: false }]]));
    expect(await t.store.deliveries.counts.heraldWide()).toEqual({ backlog: 3, deadLetters: 3, capped: false });
    expect(await t.store.deliveries.counts.heraldWide(2)).toEqual({ backlog: 2, deadLetters: 2, capped: true });
  });

  describe('after the dead letters are redriven and the queue is read', () => {
    it('counts the redriven deliveries as waiting again, and an acknowledged queue as empty', async () => {
      const redrive = await http.inject({ method: 'POST', url: `${subscriptionsPath}/${ids.failing}/deliveries/redrive`, headers: t.auth });
      expect(redrive.json()).toEqual({ redriven: 3 });
      expect(await read(ids.failing)).toMatchObject({ backlog: 3, deadLetters: 0 });

      const page = await http.inject({ method: 'GET', url: `${subscriptionsPath}/${ids.pull}/events`, headers: t.auth });
      expect(page.json().events).toHaveLength(3);
      // Read but not acknowledged: still waiting.
      expect(await read(ids.pull)).toMatchObject({ backlog: 3 });
      const checkPoint = encodeURIComponent(page.json().checkPoint as string);
      const next = await http.inject({ method: 'GET', url: `${subscriptionsPath}/${ids.pull}/events?checkPoint=${checkPoint}`, headers: t.auth });
      expect(next.json().events).toEqual([]);
      expect(await read(ids.pull)).toMatchObject({ backlog: 0, deadLetters: 0 });
    });
  });
});
