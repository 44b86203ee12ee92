import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scopes } from '../../src/domain/identity.js';
import { type Authorizer, policyAuthorizer, scopesOnly } from '../../src/domain/policy.js';
import { describeEachEngine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { testToken } from '../support/tokens.js';
import {
  callers,
  expectNoLeak,
  grant,
  idsIn,
  otherResource,
  type PolicedHerald,
  policedHerald,
  positionIn,
  resource,
  type SecretEvent,
  secretEvent,
  subscriptionsPath,
  ttd,
} from './authorization-harness.js';
import { eventsPath, expectProblem } from './harness.js';

/** What the table in authorization.test.ts does not show: batches, paging, subjects, "self", revoking. */
describeEachEngine('Authorization in detail on $name', (engine) => {
  let h: PolicedHerald;
  let receiver: Receiver;
  let tokens: Awaited<ReturnType<typeof callers>>;
  /** The authorizer Herald asks: none at first when a test says so, the policy once it is switched on. */
  let current: Authorizer;
  const switchable: Authorizer = {
    get enforced() {
      return current.enforced;
    },
    allows: (request) => current.allows(request),
  };
  beforeEach(async () => {
    h = await policedHerald(engine, { authorizer: switchable });
    current = policyAuthorizer(() => h.policy);
    receiver = await startReceiver();
    tokens = await callers();
  });
  afterEach(async () => {
    await h?.close();
    await receiver?.close();
  });

  const publish = (events: SecretEvent[], auth = h.t.auth) =>
    h.http.inject({
      method: 'POST',
      url: eventsPath,
      headers: { ...auth, 'content-type': 'application/cloudevents-batch+json' },
      payload: JSON.stringify(events.map((e) => e.event)),
    });
  const stored = async () => (await h.t.store.readEvents({ afterSeq: 0, limit: 100 })).map((e) => JSON.parse(e.payload).id);

  describe('publish', () => {
    it('refuses a whole batch when one event is not allowed, and says which', async () => {
      h.policy = { grants: [grant({ actions: ['publish'] })] };
      const response = await publish([secretEvent(), secretEvent({ resource: otherResource }), secretEvent()]);
      const problem = expectProblem(response, 403, 'events:forbidden');
      expect(problem.detail).toBe(`Event [1]: not authorized to publish events for resource ${otherResource}.`);
      expect(await stored()).toEqual([]);
    });

    it('refuses an event about a subject the grant does not name', async () => {
      h.policy = { grants: [grant({ actions: ['publish'], subjects: ['/party/1'] })] };
      expectProblem(await publish([secretEvent({ subject: '/party/2' })]), 403, 'events:forbidden');
      const about = secretEvent({ subject: '/party/2', alternativesubject: '/party/1' });
      expect((await publish([about])).statusCode).toBe(200);
      expect(await stored()).toEqual([about.event.id]);
    });

    it('the admin scope publishes to any resource, whatever the policy', async () => {
      h.policy = { grants: [] };
      const events = [secretEvent(), secretEvent({ resource: otherResource })];
      expect((await publish(events, tokens.admin)).statusCode).toBe(200);
      expect(await stored()).toEqual(events.map((e) => e.event.id));
    });

    it('the admin scope does not let its holder read or subscribe', async () => {
      h.policy = { grants: [] };
      const admin = { authorization: `Bearer ${await testToken({ scope: `${scopes.publishAdmin} ${scopes.subscribe}` })}` };
      await h.publishAsAdmin(secretEvent());
      expect((await h.poll({ after: '0', resource }, admin)).json()).toEqual([]);
      expectProblem(await h.subscribe({ resourceFilter: resource }, admin), 403, 'events:forbidden');
    });
  });

  describe('subscribe', () => {
    it.each([
      ['a push subscription', { sourceFilter: 'https://secret-source.test/', endPoint: 'http://127.0.0.1:9/hook' }],
      ['a pull subscription', { sourceFilter: 'https://secret-source.test/' }],
    ])('refuses %s without a resourceFilter while a policy is in force, even one that grants everything', async (_what, body) => {
      h.policy = { grants: [grant({ consumer: '*', actions: ['publish', 'subscribe', 'read'], resources: ['*'] })] };
      const problem = expectProblem(await h.subscribe(body), 403, 'events:forbidden');
      expect(problem.detail).toMatch(/^Not authorized to create a subscription for resource/);
      expect((await h.http.inject({ method: 'GET', url: subscriptionsPath, headers: h.t.auth })).json()).toMatchObject({ count: 0 });
    });
  });

  describe('poll', () => {
    const allSources = { after: '0', source: 'https://secret-source.test/%', size: '2' };

    it('leaves out what the caller may not read; every next link moves past it and names none of it', async () => {
      h.policy = { grants: [grant()] };
      const [e1, d1, d2, e2, d3] = [
        secretEvent(),
        secretEvent({ resource: otherResource }),
        secretEvent({ resource: otherResource }),
        secretEvent(),
        secretEvent({ resource: otherResource }),
      ] as SecretEvent[];
      for (const event of [e1, d1, d2, e2, d3]) await h.publishAsAdmin(event!);
      const denied = [d1!, d2!, d3!];
      const pages: string[][] = [];
      let query: Record<string, string> = allSources;
      for (let page = 0; page < 5; page++) {
        const response = await h.poll(query);
        expect(response.statusCode, response.body).toBe(200);
        expectNoLeak(response, ...denied);
        pages.push(idsIn(response.json()));
        const next = new URL(String(response.headers.next));
        query = Object.fromEntries(next.searchParams);
        if (positionIn(next) === (await h.t.store.headPosition())) break;
      }
      // Pages of two scanned: [e1, d1], [d2, e2], [d3] — the last one empty, yet the cursor passed it.
      expect(pages).toEqual([[e1!.event.id], [e2!.event.id], []]);

      // A page of nothing but events the caller may not read is empty, and still moves the cursor.
      const [d4, d5] = [secretEvent({ resource: otherResource }), secretEvent({ resource: otherResource })];
      await h.publishAsAdmin(d4!, d5!);
      const thinned = await h.poll(query);
      expect(thinned.json()).toEqual([]);
      expectNoLeak(thinned, d4!, d5!);
      expect(positionIn(thinned.headers.next)).toBe(await h.t.store.headPosition());
    });

    it('a caller with no grant sees an empty log, and nothing of it', async () => {
      h.policy = { grants: [grant({ resources: ['*'] })] }; // /org/ttd may read everything; /org/other nothing
      const events = [secretEvent(), secretEvent({ resource: otherResource })];
      await h.publishAsAdmin(...events);
      const response = await h.poll({ after: '0', source: 'https://secret-source.test/%' }, tokens.other);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual([]);
      expectNoLeak(response, ...events);
      expect(idsIn((await h.poll({ after: '0', source: 'https://secret-source.test/%' })).json())).toEqual(events.map((e) => e.event.id));
    });

    it('a subject-limited grant shows only events about those subjects, by subject or alternative subject', async () => {
      h.policy = { grants: [grant({ subjects: ['/party/1'] })] };
      const bySubject = secretEvent();
      const byAlternative = secretEvent({ subject: '/party/9', alternativesubject: '/party/1' });
      const others = [secretEvent({ subject: '/party/2' }), secretEvent({ subject: undefined }), secretEvent({ subject: '/party/10' })];
      await h.publishAsAdmin(bySubject, others[0]!, byAlternative, others[1]!, others[2]!);
      const response = await h.poll({ after: '0', resource });
      expect(idsIn(response.json())).toEqual([bySubject.event.id, byAlternative.event.id]);
      expectNoLeak(response, ...others);
    });

    it('a "self" grant shows each caller only the events about itself', async () => {
      h.policy = { grants: [grant({ consumer: '*', subjects: 'self' })] };
      const me = '/organisation/991825827';
      const aboutMe = secretEvent({ subject: '/party/1', alternativesubject: me });
      const mySubject = secretEvent({ subject: me });
      const others = [secretEvent({ subject: '/organisation/991825828' }), secretEvent({ alternativesubject: `${me}0` }), secretEvent()];
      await h.publishAsAdmin(aboutMe, others[0]!, mySubject, others[1]!, others[2]!);
      const mine = await h.poll({ after: '0', resource }, tokens.organisation);
      expect(idsIn(mine.json())).toEqual([aboutMe.event.id, mySubject.event.id]);
      expectNoLeak(mine, ...others);
      // /org/ttd is neither subject of any of them.
      const ttds = await h.poll({ after: '0', resource });
      expect(ttds.json()).toEqual([]);
      expectNoLeak(ttds, aboutMe, mySubject, ...others);
    });
  });

  describe('pull', () => {
    async function pullSubscription() {
      const created = await h.subscribe({ resourceFilter: resource });
      expect(created.statusCode, created.body).toBe(201);
      const id = created.json().id as number;
      return async (query: Record<string, string> = {}) => {
        const response = await h.http.inject({
          method: 'GET',
          url: `${subscriptionsPath}/${id}/events?${new URLSearchParams(query)}`,
          headers: h.t.auth,
        });
        expect(response.statusCode, response.body).toBe(200);
        return response;
      };
    }

    it('leaves out events the subscriber may not read and acknowledges them with the page', async () => {
      h.policy = { grants: [grant({ actions: ['subscribe'] }), grant({ subjects: ['/party/1'] })] };
      const read = await pullSubscription();
      const [e1, d1, e2, d2] = [secretEvent(), secretEvent({ subject: '/party/2' }), secretEvent(), secretEvent({ subject: '/party/2' })];
      await h.publishAsAdmin(e1!, d1!, e2!, d2!);
      const first = await read({ limit: '2' });
      expect(idsIn(first.json().events)).toEqual([e1!.event.id]);
      expectNoLeak(first, d1!, d2!);
      const second = await read({ limit: '2', checkPoint: first.json().checkPoint });
      expect(idsIn(second.json().events)).toEqual([e2!.event.id]);
      expectNoLeak(second, d1!, d2!);
      // Read granted for every subject now: what was left out was acknowledged, so it does not come back.
      h.policy = { grants: [grant({ actions: ['subscribe', 'read'] })] };
      const drained = await read({ limit: '2', checkPoint: second.json().checkPoint });
      expect(drained.json().events).toEqual([]);
    });

    it('an empty page still means drained when whole pages are left out', async () => {
      h.policy = { grants: [grant({ actions: ['subscribe'] }), grant({ subjects: ['/party/1'] })] };
      const read = await pullSubscription();
      const denied = [secretEvent({ subject: '/party/2' }), secretEvent({ subject: '/party/2' }), secretEvent({ subject: '/party/2' })];
      const allowed = secretEvent();
      await h.publishAsAdmin(...denied, allowed);
      const page = await read({ limit: '2' });
      // The design's contract: "An empty events array means drained." The queue is not drained.
      expect(idsIn(page.json().events)).toEqual([allowed.event.id]);
      expectNoLeak(page, ...denied);
      const next = await read({ limit: '2', checkPoint: page.json().checkPoint });
      expect(next.json().events).toEqual([]);
    });

    it('a long poll passes over events it may not read and waits for one it may', async () => {
      h.policy = { grants: [grant({ actions: ['subscribe'] }), grant({ subjects: ['/party/1'] })] };
      const read = await pullSubscription();
      const denied = secretEvent({ subject: '/party/2' });
      await h.publishAsAdmin(denied);
      const allowed = secretEvent();
      const waiting = read({ wait: '10' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await h.publishAsAdmin(allowed);
      const page = await waiting;
      expect(idsIn(page.json().events)).toEqual([allowed.event.id]);
      expectNoLeak(page, denied);
    });

    it('a revoked grant leaves out events queued while it was in force', async () => {
      h.policy = { grants: [grant({ actions: ['subscribe', 'read'] })] };
      const read = await pullSubscription();
      const queued = secretEvent();
      await h.publishAsAdmin(queued);
      h.policy = { grants: [grant({ actions: ['subscribe'] })] };
      const page = await read();
      expect(page.json().events).toEqual([]);
      expectNoLeak(page, queued);
    });
  });

  describe('push', () => {
    async function activePushSubscription() {
      const created = await h.subscribe({ resourceFilter: resource, endPoint: receiver.url });
      expect(created.statusCode, created.body).toBe(201);
      await h.t.dispatcher.runOnce();
      return created.json().id as number;
    }
    const deliveries = async (id: number) => {
      const listing = await h.deliveries(id);
      expect(listing.statusCode, listing.body).toBe(200);
      return { listing, rows: listing.json().deliveries as Record<string, unknown>[] };
    };

    it('a revoked grant stops deliveries, marking them dead with the reason; restored and redriven, they go out', async () => {
      h.policy = { grants: [grant({ actions: ['subscribe', 'read'] })] };
      const id = await activePushSubscription();
      const before = secretEvent();
      await h.publishAsAdmin(before);
      await h.t.dispatcher.runOnce();
      expect(receiver.events().map((r) => r.json.id)).toEqual([before.event.id]);

      h.policy = { grants: [grant({ actions: ['subscribe'] })] }; // read revoked
      const revoked = secretEvent();
      await h.publishAsAdmin(revoked);
      await h.t.dispatcher.runOnce();
      expect(receiver.events().map((r) => r.json.id)).toEqual([before.event.id]);
      const { listing, rows } = await deliveries(id);
      // Read is revoked for both events now, so neither is named.
      expect(rows).toMatchObject([
        { status: 'delivered' },
        { status: 'dead', lastError: expect.stringMatching(/^Not authorized/) },
      ]);
      expect(rows[1]).not.toHaveProperty('nextAttemptAt');
      // The refused delivery stays listed, but nothing of the event: not its id, source or data.
      expect(rows[1]).not.toHaveProperty('eventId');
      expect(listing.body).not.toContain(revoked.event.id as string);
      expect(listing.body).not.toContain(revoked.secrets[1]);
      expect(listing.body).not.toContain(revoked.secrets[2]);
      // Dead stays dead: it is not attempted again on its own.
      h.t.clock.advance(60_000);
      expect(await h.t.dispatcher.runOnce()).toBe(0);

      h.policy = { grants: [grant({ actions: ['subscribe', 'read'] })] };
      const redrive = await h.http.inject({ method: 'POST', url: `${subscriptionsPath}/${id}/deliveries/redrive`, headers: h.t.auth });
      expect(redrive.json()).toEqual({ redriven: 1 });
      await h.t.dispatcher.runOnce();
      expect(receiver.events().map((r) => r.json.id)).toEqual([before.event.id, revoked.event.id]);
      expect((await deliveries(id)).rows).toMatchObject([{ status: 'delivered' }, { eventId: revoked.event.id, status: 'delivered' }]);
    });

    it('a subject-limited grant delivers only events about those subjects', async () => {
      h.policy = { grants: [grant({ actions: ['subscribe'] }), grant({ subjects: ['/party/1'] })] };
      const id = await activePushSubscription();
      const allowed = secretEvent();
      const denied = secretEvent({ subject: '/party/2' });
      await h.publishAsAdmin(allowed, denied);
      await h.t.dispatcher.runOnce();
      expect(receiver.events().map((r) => r.json.id)).toEqual([allowed.event.id]);
      expect((await deliveries(id)).rows).toMatchObject([
        { eventId: allowed.event.id, status: 'delivered' },
        { status: 'dead' },
      ]);
    });

    it('a subscription made before the policy is held to it, and its dead letters name nothing of the event', async () => {
      current = scopesOnly;
      const created = await h.subscribe({ sourceFilter: 'https://secret-source.test/', endPoint: receiver.url });
      expect(created.statusCode, created.body).toBe(201);
      const id = created.json().id as number;
      await h.t.dispatcher.runOnce();
      current = policyAuthorizer(() => h.policy);
      h.policy = { grants: [grant({ actions: ['read'], resources: [resource] })] };
      const allowed = secretEvent();
      const denied = secretEvent({ resource: otherResource });
      await h.publishAsAdmin(allowed, denied);
      await h.t.dispatcher.runOnce();
      expect(receiver.events().map((r) => r.json.id)).toEqual([allowed.event.id]);
      const { listing, rows } = await deliveries(id);
      expect(rows).toMatchObject([{ status: 'delivered' }, { status: 'dead' }]);
      expect(rows[1]).not.toHaveProperty('eventId');
      // The subscriber never named this resource: the reason must not tell it which the event concerns.
      for (const secret of [...denied.secrets.slice(1), otherResource]) expect(listing.body).not.toContain(secret);
      expect(rows[1]!.lastError).toBe(`Not authorized: ${ttd} may not read this event under the policy in force.`);
    });
  });
});
