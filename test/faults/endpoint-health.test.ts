import { afterEach, beforeEach, expect, it } from 'vitest';
import { healthResource } from '../../src/domain/endpoint-health.js';
import { policyAuthorizer } from '../../src/domain/policy.js';
import { deliveriesOf, publish, resource, subscribe } from '../delivery/helpers.js';
import { describeEachEngine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';

const thresholds = { failureThreshold: 3, probeIntervalMs: 1_000, maxProbeIntervalMs: 4_000 };

/** The circuit breaker (docs/isolation.md): a failing endpoint is suspended, probed, and resumed on its first 2xx. */
describeEachEngine('Endpoint health on $name', (engine) => {
  let t: TestApp;
  let endpoint: Receiver;
  let failing = true;
  beforeEach(async () => {
    // Everyone may read the test resource; the health resource is covered by the built-in grant alone.
    const authorizer = policyAuthorizer(() => ({
      grants: [{ consumer: '*', actions: ['publish', 'subscribe', 'read'], resources: [resource] }],
    }));
    t = await createTestApp(engine, undefined, { schedule: [1_000, 1_000, 1_000, 1_000], health: thresholds, authorizer });
    failing = true;
    endpoint = await startReceiver((request) =>
      failing && request.json.type !== 'platform.events.validatesubscription' ? { status: 500 } : { status: 200 },
    );
  });
  afterEach(async () => {
    await endpoint?.close();
    await t?.close();
  });

  const healthOf = async (id: number) => {
    const read = await t.app.inject({ method: 'GET', url: `/events/api/v1/subscriptions/${id}`, headers: t.auth });
    return (read.json() as { health: { status: string; since?: string; lastError?: string } }).health;
  };
  const round = async (advanceMs: number) => {
    t.clock.advance(advanceMs);
    const before = endpoint.events().length;
    await t.dispatcher.runOnce();
    return endpoint.events().length - before;
  };
  const healthEvents = async (org: string) => {
    const polled = await t.app.inject({
      method: 'GET',
      url: `/events/api/v1/events?after=0&resource=${healthResource}`,
      headers: { authorization: `Bearer ${await testToken({ claims: { org } })}` },
    });
    expect(polled.statusCode, polled.body).toBe(200);
    return polled.json() as { type: string; subject: string; data: Record<string, unknown> }[];
  };

  it('suspends after failures in a row, holds the deliveries without spending attempts, probes at doubling intervals, and resumes on the first 2xx', async () => {
    const subscription = await subscribe(t, endpoint.url);
    expect(await healthOf(subscription.id)).toEqual({ status: 'healthy' });
    const ids = ['h-1', 'h-2', 'h-3', 'h-4', 'h-5'];
    await publish(t, ...ids);

    expect(await round(0)).toBe(5); // five failures in a row: past the threshold of three
    const suspended = await healthOf(subscription.id);
    expect(suspended.status).toBe('suspended');
    expect(suspended.lastError).toBe('The endpoint answered 500.');
    expect(typeof suspended.since).toBe('string');

    // The ladder would retry each after 1 s; suspended, nothing goes before the first probe is due (1 s).
    expect(await round(500)).toBe(0);
    expect(await round(600)).toBe(1); // the probe: one delivery, not five
    // It failed: the next probe waits twice as long (2 s).
    expect(await round(1_500)).toBe(0);
    expect((await deliveriesOf(t, subscription.id)).map((d) => d.attempts).sort()).toEqual([1, 1, 1, 1, 2]);

    failing = false;
    expect(await round(600)).toBe(1); // the second probe, answered 2xx: resumed
    expect((await healthOf(subscription.id)).status).toBe('healthy');
    await round(0);
    expect(await deliveriesOf(t, subscription.id, 'delivered')).toHaveLength(5);
    expect(new Set(endpoint.events().map((r) => r.json.id))).toEqual(new Set(ids));

    // Both changes are in Herald's own log, for the owner to read (and subscribe to).
    const events = await healthEvents('ttd');
    expect(events.map((e) => e.type)).toEqual(['herald.subscription.suspended', 'herald.subscription.resumed']);
    expect(events.every((e) => e.subject === '/org/ttd' && e.data.subscriptionId === subscription.id)).toBe(true);
    expect(events[0]?.data).toMatchObject({ health: 'suspended', lastError: 'The endpoint answered 500.' });
    // The run that reached the threshold (outcomes are counted as they are written, some together).
    expect(events[0]?.data.failures).toBeGreaterThanOrEqual(thresholds.failureThreshold);
    // Another consumer reads none of them.
    expect(await healthEvents('other')).toEqual([]);
  });

  it("nobody, not even the admin scope, can publish a forged health event", async () => {
    const admin = await testToken({ scope: 'altinn:events.publish altinn:events.publish.admin' });
    const forged = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/events',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/cloudevents+json' },
      payload: { specversion: '1.0', id: 'forged', source: 'https://herald.test/x', type: 'herald.subscription.resumed', resource: healthResource },
    });
    expect(forged.statusCode, forged.body).toBe(403);
    expect(forged.json()).toMatchObject({ detail: expect.stringContaining('urn:herald:') });
    expect(await healthEvents('ttd')).toEqual([]);
  });

  it('a success before the threshold ends the run: failing, then healthy, never suspended', async () => {
    const subscription = await subscribe(t, endpoint.url);
    await publish(t, 'f-1', 'f-2');
    expect(await round(0)).toBe(2);
    expect(await healthOf(subscription.id)).toMatchObject({ status: 'failing', lastError: 'The endpoint answered 500.' });
    failing = false;
    expect(await round(1_100)).toBe(2);
    expect(await healthOf(subscription.id)).toMatchObject({ status: 'healthy' });
    // Two failures, then successes: the next failures start a new run.
    failing = true;
    await publish(t, 'f-3', 'f-4');
    expect(await round(0)).toBe(2);
    expect((await healthOf(subscription.id)).status).toBe('failing');
    expect(await healthEvents('ttd')).toEqual([]);
  });
});
