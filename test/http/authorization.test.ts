import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Grant, type PolicyAction, policyActions, scopesOnly } from '../../src/domain/policy.js';
import { describeEachEngine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import {
  expectNoLeak,
  grant,
  idsIn,
  otherResource,
  type PolicedHerald,
  policedHerald,
  positionIn,
  resource,
  secretEvent,
  subscriptionsPath,
  ttd,
} from './authorization-harness.js';
import { eventsPath, expectProblem } from './harness.js';

/**
 * Every action a policy governs, allowed and denied, on both engines: the same scenario runs under grants
 * that should let `/org/ttd` through and grants that should not, and under no policy at all.
 */

type Case = 'publish' | 'subscribe' | 'poll read' | 'pull read' | 'push read';
const cases: readonly Case[] = ['publish', 'subscribe', 'poll read', 'pull read', 'push read'];
const actionOf: Record<Case, PolicyAction> = {
  publish: 'publish',
  subscribe: 'subscribe',
  'poll read': 'read',
  'pull read': 'read',
  'push read': 'read',
};
/** Pull and push read through a subscription, which the caller may always make in these tests. */
const setupOf = (c: Case): Grant[] => (c === 'pull read' || c === 'push read' ? [grant({ actions: ['subscribe'] })] : []);

interface Variant {
  readonly name: string;
  readonly grants: (action: PolicyAction) => Grant[];
  /** Whether `/org/ttd` may take the action on an event of `resource` about `/party/1`. */
  readonly allows: (c: Case) => boolean;
}

const variants: readonly Variant[] = [
  { name: 'a grant to the caller for the resource', grants: (a) => [grant({ actions: [a] })], allows: () => true },
  { name: 'a grant to everyone ("*")', grants: (a) => [grant({ consumer: '*', actions: [a] })], allows: () => true },
  {
    name: 'a grant for a resource prefix ("…*")',
    grants: (a) => [grant({ actions: [a], resources: ['urn:altinn:resource:herald.authz-*'] })],
    allows: () => true,
  },
  { name: 'a grant for every resource ("*")', grants: (a) => [grant({ actions: [a], resources: ['*'] })], allows: () => true },
  { name: "a grant naming the event's subject", grants: (a) => [grant({ actions: [a], subjects: ['/party/1'] })], allows: () => true },
  { name: 'no grant at all', grants: () => [], allows: () => false },
  { name: 'a grant to another consumer', grants: (a) => [grant({ consumer: '/org/other', actions: [a] })], allows: () => false },
  {
    name: 'a grant of every other action',
    grants: (a) => [grant({ actions: policyActions.filter((other) => other !== a) })],
    allows: () => false,
  },
  { name: 'a grant for another resource', grants: (a) => [grant({ actions: [a], resources: [otherResource] })], allows: () => false },
  {
    name: 'a grant for a prefix the resource does not start with',
    grants: (a) => [grant({ actions: [a], resources: [`${resource}x*`] })],
    allows: () => false,
  },
  // Subject limits concern events; creating a subscription concerns none, so they do not stop it.
  {
    name: 'a grant naming another subject',
    grants: (a) => [grant({ actions: [a], subjects: ['/party/2'] })],
    allows: (c) => c === 'subscribe',
  },
  {
    name: 'a "self" grant, for an event about someone else',
    grants: (a) => [grant({ consumer: '*', actions: [a], subjects: 'self' })],
    allows: (c) => c === 'subscribe',
  },
];

type Scenario = (h: PolicedHerald, receiver: Receiver, allowed: boolean) => Promise<void>;

const scenarios: Record<Case, Scenario> = {
  async publish(h, _receiver, allowed) {
    const secret = secretEvent();
    const response = await h.http.inject({
      method: 'POST',
      url: eventsPath,
      headers: { ...h.t.auth, 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify(secret.event),
    });
    const stored = await h.t.store.readEvents({ afterSeq: 0, limit: 10 });
    if (allowed) {
      expect(response.statusCode, response.body).toBe(200);
      expect(stored.map((e) => JSON.parse(e.payload))).toEqual([secret.event]);
    } else {
      const problem = expectProblem(response, 403, 'events:forbidden');
      expect(problem.detail).toBe(`Not authorized to publish events for resource ${resource}.`);
      expect(stored).toEqual([]);
    }
  },

  async subscribe(h, receiver, allowed) {
    for (const body of [{ resourceFilter: resource }, { resourceFilter: resource, endPoint: receiver.url }]) {
      const response = await h.subscribe(body);
      if (allowed) {
        expect(response.statusCode, response.body).toBe(201);
      } else {
        const problem = expectProblem(response, 403, 'events:forbidden');
        expect(problem.detail).toBe(`Not authorized to create a subscription for resource ${resource}.`);
      }
    }
    const listed = await h.http.inject({ method: 'GET', url: subscriptionsPath, headers: h.t.auth });
    expect(listed.json()).toMatchObject({ count: allowed ? 2 : 0 });
  },

  async 'poll read'(h, _receiver, allowed) {
    const secret = secretEvent();
    await h.publishAsAdmin(secret);
    const response = await h.poll({ after: '0', resource });
    expect(response.statusCode, response.body).toBe(200);
    expect(idsIn(response.json())).toEqual(allowed ? [secret.event.id] : []);
    // Either way the cursor moves past the event.
    expect(positionIn(response.headers.next)).toBe(await h.t.store.headPosition());
    expect(response.headers.link).toBe(`<${response.headers.next}>; rel="next"`);
    if (!allowed) expectNoLeak(response, secret);
  },

  async 'pull read'(h, _receiver, allowed) {
    const created = await h.subscribe({ resourceFilter: resource });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as number;
    const secret = secretEvent();
    await h.publishAsAdmin(secret);
    const read = (checkPoint?: string) =>
      h.http.inject({
        method: 'GET',
        url: `${subscriptionsPath}/${id}/events${checkPoint ? `?checkPoint=${encodeURIComponent(checkPoint)}` : ''}`,
        headers: h.t.auth,
      });
    const page = await read();
    expect(page.statusCode, page.body).toBe(200);
    expect(idsIn(page.json().events)).toEqual(allowed ? [secret.event.id] : []);
    if (allowed) return;
    expectNoLeak(page, secret);
    // The event left out was acknowledged with the page: with read granted again it is not served.
    h.policy = { grants: [...h.policy.grants, grant({ actions: ['read'] })] };
    const after = await read(page.json().checkPoint);
    expect(after.statusCode, after.body).toBe(200);
    expect(after.json().events).toEqual([]);
  },

  async 'push read'(h, receiver, allowed) {
    const created = await h.subscribe({ resourceFilter: resource, endPoint: receiver.url });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as number;
    await h.t.dispatcher.runOnce(); // the handshake
    const secret = secretEvent();
    await h.publishAsAdmin(secret);
    await h.t.dispatcher.runOnce();
    const listing = await h.deliveries(id);
    expect(listing.statusCode, listing.body).toBe(200);
    const deliveries = listing.json().deliveries as Record<string, unknown>[];
    if (allowed) {
      expect(receiver.events().map((r) => r.json.id)).toEqual([secret.event.id]);
      expect(deliveries).toMatchObject([{ eventId: secret.event.id, status: 'delivered' }]);
      return;
    }
    expect(receiver.events()).toEqual([]);
    expect(deliveries).toMatchObject([{ status: 'dead', lastError: expect.stringMatching(/not authorized/i) }]);
    // The refused delivery stays visible, but shows nothing of the event, not even its id.
    expect(Object.keys(deliveries[0]!).sort()).toEqual(['attempts', 'created', 'deadAt', 'id', 'lastError', 'status']);
    expect(listing.body).not.toContain(secret.event.id as string);
    const [, source, data] = secret.secrets;
    expect(listing.body).not.toContain(source);
    expect(listing.body).not.toContain(data);
    // Its own page shows no more, and it has no attempt: nothing was sent.
    const single = await h.t.app.inject({ url: `/events/api/v1/subscriptions/${id}/deliveries/${String(deliveries[0]!.id)}`, headers: h.t.auth });
    expect(single.statusCode, single.body).toBe(200);
    expect(single.json()).not.toHaveProperty('eventId');
    expect(single.json()).not.toHaveProperty('lastAttempt');
    expect(single.body).not.toContain(secret.event.id as string);
  },
};

describeEachEngine('Authorization by policy on $name', (engine) => {
  let h: PolicedHerald;
  let receiver: Receiver;
  beforeEach(async () => {
    h = await policedHerald(engine);
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await h?.close();
    await receiver?.close();
  });

  describe.each(cases)('%s', (c) => {
    it.each(variants.map((v) => [v.name, v] as const))('under %s', async (_name, variant) => {
      h.policy = { grants: [...setupOf(c), ...variant.grants(actionOf[c])] };
      await scenarios[c](h, receiver, variant.allows(c));
    });
  });
});

describeEachEngine('Without a policy, on $name, scopes alone decide', (engine) => {
  let h: PolicedHerald;
  let receiver: Receiver;
  beforeEach(async () => {
    h = await policedHerald(engine, { authorizer: scopesOnly });
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await h?.close();
    await receiver?.close();
  });

  it.each(cases)('%s is allowed', async (c) => {
    await scenarios[c](h, receiver, true);
  });

  it('a subscription without a resourceFilter is allowed', async () => {
    const response = await h.subscribe({ sourceFilter: 'https://secret-source.test/', endPoint: receiver.url });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ consumer: ttd });
  });
});
