import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { consumerIdentity } from '../../src/domain/identity.js';
import { type Policy, policyAuthorizer } from '../../src/domain/policy.js';
import { subscriptionIdentity } from '../../src/domain/subscription-request.js';
import { expectProblem } from '../http/harness.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { assembleHerald, createTestApp, type HeraldUnderTest, sampleEvent, type TestApp } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { rawSql } from '../store/retention-harness.js';
import { migrateToBefore } from './older-schema.js';

const api = '/events/api/v1';
const resource = 'urn:altinn:resource:herald.identity';
const bearer = async (claims: Record<string, unknown>) => ({
  authorization: `Bearer ${await testToken({ claims: { org: undefined, ...claims } })}`,
});

describeEachEngine('A token cannot take another consumer\'s identity, on $name', (engine) => {
  let t: TestApp;
  let receiver: Receiver;
  let policy: Policy;
  /** `/org/alpha`, by its org claim. */
  let alpha: { authorization: string };
  /** A validly signed token whose only identity claim is `sub`, written as alpha's identity. */
  let intruder: { authorization: string };

  const send = (method: 'GET' | 'POST' | 'DELETE', url: string, headers: Record<string, string>, payload?: object) =>
    t.app.inject({ method, url: `${api}${url}`, headers, ...(payload ? { payload } : {}) });
  const publish = async (...events: Record<string, unknown>[]) => {
    const admin = { authorization: `Bearer ${await testToken({ scope: 'altinn:events.publish.admin', claims: { org: 'publisher' } })}` };
    const response = await t.app.inject({
      method: 'POST',
      url: `${api}/events`,
      headers: { ...admin, 'content-type': 'application/cloudevents-batch+json' },
      payload: JSON.stringify(events),
    });
    expect(response.statusCode, response.body).toBe(200);
  };
  const notFound = (response: LightMyRequestResponse) => expectProblem(response, 404, 'events:notFound');

  beforeEach(async () => {
    // Everyone may subscribe to and read the resource; `self` limits reading to the caller's own events.
    policy = {
      grants: [
        { consumer: '*', actions: ['subscribe'], resources: [resource] },
        { consumer: '/org/alpha', actions: ['read'], resources: [resource] },
        { consumer: '*', actions: ['read'], resources: [resource], subjects: 'self' },
      ],
    };
    t = await createTestApp(engine, undefined, { authorizer: policyAuthorizer(() => policy), schedule: [1_000] });
    receiver = await startReceiver();
    alpha = await bearer({ org: 'alpha' });
    intruder = await bearer({ sub: '/org/alpha' });
  });
  afterEach(async () => {
    await t.close();
    await receiver.close();
  });

  it("a sub written as /org/alpha reads, lists, pulls, redrives, re-validates and deletes none of alpha's subscriptions", async () => {
    const push = await send('POST', '/subscriptions', alpha, { endPoint: receiver.url, resourceFilter: resource });
    expect(push.statusCode, push.body).toBe(201);
    const pull = await send('POST', '/subscriptions', alpha, { resourceFilter: resource });
    expect(pull.statusCode, pull.body).toBe(201);
    const [pushId, pullId] = [push.json().id as number, pull.json().id as number];
    await t.dispatcher.runOnce();
    await publish(sampleEvent({ resource, id: 'alpha-1' }));

    const listed = await send('GET', '/subscriptions', intruder);
    expect(listed.statusCode).toBe(200);
    expect(listed.json()).toEqual({ count: 0, subscriptions: [] });
    notFound(await send('GET', `/subscriptions/${pushId}`, intruder));
    notFound(await send('GET', `/subscriptions/${pullId}/events`, intruder));
    notFound(await send('GET', `/subscriptions/${pushId}/deliveries`, intruder));
    notFound(await send('POST', `/subscriptions/${pushId}/deliveries/redrive`, intruder));
    notFound(await send('POST', `/subscriptions/${pushId}/validate`, intruder));
    notFound(await send('DELETE', `/subscriptions/${pullId}`, intruder));

    // Asking for the identical subscription makes the intruder its own, never answers with alpha's (and its
    // signing secret).
    const same = await send('POST', '/subscriptions', intruder, { endPoint: receiver.url, resourceFilter: resource });
    expect(same.statusCode, same.body).toBe(201);
    expect(same.json().id).not.toBe(pushId);
    expect(same.json().secret).not.toBe(push.json().secret);
    expect(same.json().consumer).not.toBe('/org/alpha');

    // Alpha's subscriptions are untouched: both there, and the pull queue still holds its event.
    const mine = await send('GET', '/subscriptions', alpha);
    expect(mine.json().subscriptions.map((s: { id: number }) => s.id)).toEqual([pushId, pullId]);
    const queued = await send('GET', `/subscriptions/${pullId}/events`, alpha);
    expect(queued.json().events.map((e: { id: string }) => e.id)).toEqual(['alpha-1']);
  });

  it('a sub written as a person number does not satisfy a "self" grant for that person', async () => {
    const person = '/person/01017012345';
    await publish(sampleEvent({ resource, id: 'about-the-person', subject: person }));
    const poll = (headers: Record<string, string>) =>
      send('GET', `/events?${new URLSearchParams({ after: '0', resource })}`, headers);

    const impostor = await poll(await bearer({ sub: person }));
    expect(impostor.statusCode, impostor.body).toBe(200);
    expect(impostor.json()).toEqual([]);
    expect(impostor.body).not.toContain('about-the-person');

    // The grant itself still works for an identity Herald derives: a user reading events about itself.
    await publish(sampleEvent({ resource, id: 'about-the-user', subject: '/user/1337' }));
    const user = await poll(await bearer({ userId: 1337 }));
    expect(user.json().map((e: { id: string }) => e.id)).toEqual(['about-the-user']);
  });

  it('a sub is its own identity, /sub/{sub}, with / and % percent-encoded', async () => {
    const created = await send('POST', '/subscriptions', await bearer({ sub: 'client/7%' }), { resourceFilter: resource });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ consumer: '/sub/client%2F7%25', createdBy: '/sub/client%2F7%25' });
    // A sub that spells out that encoding is another caller.
    const lookalike = await send('GET', '/subscriptions', await bearer({ sub: 'client%2F7%25' }));
    expect(lookalike.json()).toEqual({ count: 0, subscriptions: [] });
  });
});

describeEachEngine('Subscriptions an older Herald stored under a bare sub, on $name', (engine) => {
  let db: TestDatabase;
  let herald: HeraldUnderTest | undefined;

  beforeEach(async () => {
    db = await engine.create();
  });
  afterEach(async () => {
    await herald?.close();
    herald = undefined;
    await db.destroy();
  });

  /** A subscription as the old code stored it: `consumer` the token's `sub` as it was. */
  async function storeOldStyle(consumer: string, resourceFilter: string, identity: string): Promise<void> {
    await rawSql(
      engine,
      db.database,
      `INSERT INTO subscriptions (identity, consumer, created_by, resource_filter, secret, status, created_at, validated_at)
       VALUES ($1, $2, $3, $4, 'whsec_x', 'active', $5, $6)`,
      [identity, consumer, consumer, resourceFilter, Date.now(), Date.now()],
    );
  }

  it('moves each to /sub/{sub}, percent-encoded, for its owner to find; identities from org, userId and orgNumber stay', async () => {
    await migrateToBefore(engine, db, '_consumer_namespaces');
    const spec = { endpoint: null, sourceFilter: null, resourceFilter: resource, subjectFilter: null, alternativeSubjectFilter: null, typeFilter: null };
    await storeOldStyle('client-7', resource, subscriptionIdentity('client-7', spec));
    await storeOldStyle('auth0|42 ø/x%', resource, 'legacy-2');
    await storeOldStyle('/org/alpha', resource, 'legacy-3');
    await storeOldStyle('/user/1337', resource, 'legacy-4');
    await storeOldStyle('/organisation/991825827', resource, 'legacy-5');

    const store = await db.open();
    herald = await assembleHerald(store);
    const consumers = (await store.subscriptions.listBy({})).map((s) => [s.consumer, s.createdBy]);
    expect(consumers).toEqual([
      ['/sub/client-7', '/sub/client-7'],
      ['/sub/auth0%7C42%20%C3%B8%2Fx%25', '/sub/auth0%7C42%20%C3%B8%2Fx%25'],
      ['/org/alpha', '/org/alpha'],
      ['/user/1337', '/user/1337'],
      ['/organisation/991825827', '/organisation/991825827'],
    ]);

    const client7 = await bearer({ sub: 'client-7' });
    const listed = await herald.app.inject({ method: 'GET', url: `${api}/subscriptions`, headers: client7 });
    expect(listed.json().count).toBe(1);
    const oldId = listed.json().subscriptions[0].id as number;
    // Asking again for the identical subscription finds the carried-over one, as it did before the upgrade.
    const again = await herald.app.inject({ method: 'POST', url: `${api}/subscriptions`, headers: client7, payload: { resourceFilter: resource } });
    expect(again.statusCode, again.body).toBe(201);
    expect(again.json().id).toBe(oldId);
    const encoded = await herald.app.inject({ method: 'GET', url: `${api}/subscriptions`, headers: await bearer({ sub: 'auth0|42 ø/x%' }) });
    expect(encoded.json().count).toBe(1);
    // The sub-only caller who wrote its sub as /org/alpha no longer reaches what it stored that way.
    const intruder = await herald.app.inject({ method: 'GET', url: `${api}/subscriptions`, headers: await bearer({ sub: '/org/alpha' }) });
    expect(intruder.json().count).toBe(0);
  });

  it('encodes in SQL exactly as Herald derives identities, for every kind of character', async () => {
    await migrateToBefore(engine, db, '_consumer_namespaces');
    const subs = ["-_.!~*'()AZaz09", ' "#$&+,/:;<=>?@[\\]^`{|}%', 'æøå ß', '中文', '🙂 emoji', 'tab\there', '/sub/x', '\u007f'];
    for (const [n, sub] of subs.entries()) await storeOldStyle(sub, resource, `legacy-${n}`);
    const store = await db.open();
    const consumers = (await store.subscriptions.listBy({})).map((s) => s.consumer);
    expect(consumers).toEqual(subs.map((sub) => consumerIdentity('sub', sub)));
  });
});
