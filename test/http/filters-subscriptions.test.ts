import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from '../delivery/helpers.js';
import { describeEachEngine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { assembleHerald, createTestApp, type HeraldUnderTest, sampleEvent, type TestApp } from '../support/test-app.js';
import { callerNamed } from './subscriptions-harness.js';
import { pullClient } from './pull-harness.js';
import { drainReplays, replayClient } from './replay-harness.js';

const resource = 'urn:altinn:resource:herald.filters-test';
const otherResource = 'urn:altinn:resource:herald.filters-other';
const subscriptionsPath = '/events/api/v1/subscriptions';

/** The events every case sees, published once; `x5` is of another resource, which the Altinn filter keeps out. */
const events = [
  sampleEvent({ id: 'x1', resource, type: 'no.altinn.a.created', subject: '/party/1', priority: 3 }),
  sampleEvent({ id: 'x2', resource, type: 'no.altinn.a.deleted', subject: '/party/2', priority: 1 }),
  sampleEvent({ id: 'x3', resource, type: 'no.altinn.b.created', subject: '/person/3' }),
  sampleEvent({ id: 'x4', resource, type: 'other.created', subject: '/party/4', urgent: true }),
  sampleEvent({ id: 'x5', resource: otherResource, type: 'no.altinn.a.created', subject: '/party/1', priority: 3 }),
];

/** A subscription body's filters, and the events it must get of those above. */
const cases: { name: string; body: Record<string, unknown>; expected: string[] }[] = [
  { name: 'exact', body: { filters: [{ exact: { type: 'no.altinn.a.created' } }] }, expected: ['x1'] },
  { name: 'prefix', body: { filters: [{ prefix: { type: 'no.altinn.' } }] }, expected: ['x1', 'x2', 'x3'] },
  { name: 'suffix', body: { filters: [{ suffix: { type: '.created' } }] }, expected: ['x1', 'x3', 'x4'] },
  {
    name: 'all',
    body: { filters: [{ all: [{ prefix: { type: 'no.altinn.' } }, { suffix: { type: '.created' } }] }] },
    expected: ['x1', 'x3'],
  },
  {
    name: 'any',
    body: { filters: [{ any: [{ exact: { subject: '/party/2' } }, { exact: { subject: '/person/3' } }] }] },
    expected: ['x2', 'x3'],
  },
  { name: 'not', body: { filters: [{ not: { prefix: { subject: '/party/' } } }] }, expected: ['x3'] },
  { name: 'sql', body: { filters: [{ sql: 'priority >= 2' }] }, expected: ['x1'] },
  // Filed in the match index under the subject it requires.
  { name: 'sql requiring a subject', body: { filters: [{ sql: "subject = '/party/2' AND priority < 3" }] }, expected: ['x2'] },
  { name: 'exact on extensions', body: { filters: [{ any: [{ exact: { priority: '1' } }, { exact: { urgent: 'true' } }] }] }, expected: ['x2', 'x4'] },
  {
    name: 'sql with an Altinn type filter',
    body: { typeFilter: 'no.altinn.a.created', filters: [{ sql: "subject LIKE '/party/%'" }] },
    expected: ['x1'],
  },
  {
    name: 'two filters, both holding',
    body: { filters: [{ prefix: { type: 'no.altinn.' } }, { not: { exact: { subject: '/party/1' } } }] },
    expected: ['x2', 'x3'],
  },
];

describeEachEngine('Filter expressions on real subscriptions, $name', (engine) => {
  let t: TestApp;
  const receivers = new Map<string, Receiver>();
  const pushIds = new Map<string, number>();
  const pullIds = new Map<string, number>();
  const secrets = new Map<string, { secret: string }>();
  let client: ReturnType<typeof pullClient>;

  beforeAll(async () => {
    t = await createTestApp(engine, undefined, { schedule: [1_000], timeoutMs: 2_000, replayer: { backfillSettleMs: 0 } });
    client = pullClient(t.app, t.auth);
    for (const { name, body } of cases) {
      const receiver = await startReceiver();
      receivers.set(name, receiver);
      const push = await t.app.inject({
        method: 'POST',
        url: subscriptionsPath,
        headers: t.auth,
        payload: { endPoint: receiver.url, resourceFilter: resource, ...body },
      });
      expect(push.statusCode, push.body).toBe(201);
      pushIds.set(name, push.json().id);
      secrets.set(name, { secret: push.json().secret });
      pullIds.set(name, await client.subscribe({ resourceFilter: resource, ...body }));
    }
    // Delivery slots are budgeted per consumer: the handshakes may take a few of the dispatcher's steps.
    await eventually(async () => {
      await t.dispatcher.runOnce();
      const statuses = await Promise.all([...pushIds.values()].map(async (id) => (await client.subscription(id)).status));
      return statuses.every((status) => status === 'active');
    });
    await client.publish(...events);
  });

  /** Runs the dispatcher's steps until the condition holds. */
  const dispatchUntil = (condition: () => boolean) =>
    eventually(async () => {
      await t.dispatcher.runOnce();
      return condition();
    });
  afterAll(async () => {
    await t?.close();
    for (const receiver of receivers.values()) await receiver.close();
  });

  it.each(cases)('pushes to a loopback receiver exactly the events its $name filters match, signed', async ({ name, expected }) => {
    const receiver = receivers.get(name) as Receiver;
    const { secret } = secrets.get(name) as { secret: string };
    await dispatchUntil(() => receiver.events().length >= expected.length);
    const subscription = await client.subscription(pushIds.get(name) as number);
    expect(subscription.status).toBe('active');
    const deliveries = await client.deliveries(pushIds.get(name) as number);
    expect(deliveries.map((d) => d.eventId).sort()).toEqual(expected);
    expect(receiver.events().map((r) => r.json.id).sort()).toEqual(expected);
    for (const request of receiver.events()) new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
  });

  it.each(cases)('queues for pulling exactly the events its $name filters match', async ({ name, expected }) => {
    const page = await client.page(pullIds.get(name) as number);
    expect(page.events.map((e) => e.id)).toEqual(expected);
  });

  it('returns the filters as given when created, read and listed', async () => {
    const auth = await callerNamed('filters-as-given');
    const filters = [
      { any: [{ suffix: { subject: '/1', type: '.created' } }, { sql: "type LIKE '%.deleted'" }] },
      { not: { exact: { urgent: 'true' } } },
    ];
    const created = await t.app.inject({ method: 'POST', url: subscriptionsPath, headers: auth, payload: { resourceFilter: resource, filters } });
    expect(created.statusCode, created.body).toBe(201);
    expect(JSON.stringify(created.json().filters)).toBe(JSON.stringify(filters));
    const read = await t.app.inject({ method: 'GET', url: `${subscriptionsPath}/${created.json().id}`, headers: auth });
    expect(JSON.stringify(read.json().filters)).toBe(JSON.stringify(filters));
    const listed = await t.app.inject({ method: 'GET', url: subscriptionsPath, headers: auth });
    expect(JSON.stringify(listed.json().subscriptions[0].filters)).toBe(JSON.stringify(filters));
    // The same again is the same subscription; other filters make another.
    const again = await t.app.inject({ method: 'POST', url: subscriptionsPath, headers: auth, payload: { resourceFilter: resource, filters } });
    expect(again.json().id).toBe(created.json().id);
    const other = await t.app.inject({
      method: 'POST',
      url: subscriptionsPath,
      headers: auth,
      payload: { resourceFilter: resource, filters: [filters[1]] },
    });
    expect(other.json().id).not.toBe(created.json().id);
  });

  it.each([
    { filters: [{ exact: { type: '' } }], field: 'filters/0/exact/type' },
    { filters: [{ exact: { '': 'a' } }], field: 'filters/0/exact/' },
    { filters: [{ all: [] }], field: 'filters/0/all' },
    { filters: [{ prefix: { type: 'a' } }, { any: [] }], field: 'filters/1/any' },
    { filters: [{ regex: { type: 'a' } }], field: 'filters/0' },
    { filters: [{ exact: { type: 'a' }, suffix: { type: 'b' } }], field: 'filters/0' },
    { filters: [{ all: [{ sql: "type = 'a' AND" }] }], field: 'filters/0/all/0/sql' },
    { filters: [{ sql: 'LENGTH(subject)' }], field: 'filters/0/sql' },
    { filters: { exact: { type: 'a' } }, field: 'filters' },
  ])('refuses filters at $field with a 400 that names it, and creates nothing', async ({ filters, field }) => {
    const auth = await callerNamed(`bad-filters-${engine.name}`);
    for (const body of [{ resourceFilter: resource, filters }, { endPoint: 'http://127.0.0.1:9/x', resourceFilter: resource, filters }]) {
      const response = await t.app.inject({ method: 'POST', url: subscriptionsPath, headers: auth, payload: body });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json().code).toBe('events:invalidRequest');
      expect(Object.keys(response.json().errors)).toContain(field);
    }
    const listed = await t.app.inject({ method: 'GET', url: subscriptionsPath, headers: auth });
    expect(listed.json().subscriptions).toEqual([]);
  });

  it('tells where in a CESQL expression it stops parsing', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: subscriptionsPath,
      headers: t.auth,
      payload: { resourceFilter: resource, filters: [{ sql: "type = 'a' AND (subject" }] },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors['filters/0/sql'][0]).toMatch(/line 1, column 24 \(offset 23\)/);
  });

  it('still needs a resource or source filter besides the filter expressions', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: subscriptionsPath,
      headers: t.auth,
      payload: { filters: [{ exact: { resource } }] },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().detail).toBe('Resource filter is required.');
  });

  it('replays only what the subscription\'s current filters match', async () => {
    const replays = replayClient(t, t.auth);
    const receiver = await startReceiver();
    try {
      const created = await replays.subscribe({ endPoint: receiver.url, resourceFilter: resource, filters: [{ suffix: { type: '.created' } }] });
      expect(created.statusCode, created.body).toBe(201);
      const { id, secret } = created.json() as { id: number; secret: string };
      await eventually(async () => {
        await t.dispatcher.runOnce();
        return (await client.subscription(id)).status === 'active';
      });
      expect(await replays.count(id, { after: '0' })).toBe(3);
      await replays.start(id, { after: '0' });
      await drainReplays(t);
      await dispatchUntil(() => receiver.events().length >= 3);
      expect(receiver.events().map((r) => r.json.id).sort()).toEqual(['x1', 'x3', 'x4']);
      const webhook = new Webhook(secret);
      for (const request of receiver.events()) webhook.verify(request.body, request.headers as Record<string, string>);
    } finally {
      await receiver.close();
    }
  });

  it('a backfill from the start of the log queues what the filters match', async () => {
    const auth = await callerNamed(`backfill-filters-${engine.name}`);
    const created = await t.app.inject({
      method: 'POST',
      url: subscriptionsPath,
      headers: auth,
      payload: { resourceFilter: resource, filters: [{ sql: "subject LIKE '/party/%' AND type LIKE '%.created'" }], startFrom: '0' },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().backfill.events).toBe(2);
    await drainReplays(t);
    const page = await pullClient(t.app, auth).page(created.json().id);
    expect(page.events.map((e) => e.id)).toEqual(['x1', 'x4']);
  });

  it('a registry loaded afresh (another process, on PostgreSQL a second Herald) matches with the stored filters', async () => {
    const auth = await callerNamed(`reload-filters-${engine.name}`);
    const other = pullClient(t.app, auth);
    const id = await other.subscribe({ resourceFilter: resource, filters: [{ exact: { subject: '/party/9' } }] });
    let second: HeraldUnderTest | undefined;
    try {
      // SQLite serves one process: there a registry reloads from the file; PostgreSQL gets a second Herald.
      if (engine.name === 'postgres') second = await assembleHerald(await t.db.open());
      else await t.registry.reload();
      const publisher = pullClient((second ?? t).app, auth);
      await publisher.publish(
        sampleEvent({ id: 'r1', resource, subject: '/party/9' }),
        sampleEvent({ id: 'r2', resource, subject: '/party/8' }),
      );
      const page = await other.page(id);
      expect(page.events.map((e) => e.id)).toEqual(['r1']);
    } finally {
      await second?.close();
    }
  });
});
