import { afterAll, beforeAll, expect, it } from 'vitest';
import { scopes } from '../../src/domain/identity.js';
import { describeEachEngine } from '../support/engines.js';
import { createTestApp, sampleEvent, type TestApp } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { pullClient } from './pull-harness.js';
import { drainReplays } from './replay-harness.js';
import { callerNamed } from './subscriptions-harness.js';

const resource = 'urn:altinn:resource:herald.filter-test';
const otherResource = 'urn:altinn:resource:herald.filter-test-other';
const testPath = '/events/api/v1/filters/test';
const subscriptionsPath = '/events/api/v1/subscriptions';

/** Thirty events: types and subjects vary with their number; every fifth is of another resource. */
const events = Array.from({ length: 30 }, (_, i) =>
  sampleEvent({
    id: `t${i}`,
    resource: i % 5 === 4 ? otherResource : resource,
    type: i % 3 === 0 ? 'no.altinn.a.created' : 'no.altinn.a.updated',
    subject: `/party/${i % 2 === 0 ? 'even' : 'odd'}/${i}`,
    sequence: i,
  }),
);

describeEachEngine('POST /filters/test, $name', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(engine, undefined, { replayer: { backfillSettleMs: 0 } });
    await pullClient(t.app, t.auth).publish(...events);
  });
  afterAll(async () => t?.close());

  const test = (body: unknown, auth = t.auth) => t.app.inject({ method: 'POST', url: testPath, headers: auth, payload: body as object });

  it('counts exactly what a subscription with the same filters then gets, and shows the matches in log order', async () => {
    const body = {
      resourceFilter: resource,
      filters: [{ any: [{ suffix: { subject: '/1' } }, { sql: "type LIKE '%.created' AND subject LIKE '/party/even/%'" }] }],
    };
    const response = await test({ ...body, sample: 10_000 });
    expect(response.statusCode, response.body).toBe(200);
    const answer = response.json() as { sample: number; matched: number; events: { id: string }[] };
    const expected = ['t0', 't1', 't6', 't12', 't18'];
    expect(answer.sample).toBe(10_000);
    expect(answer.matched).toBe(expected.length);
    expect(answer.events.map((e) => e.id)).toEqual(expected);
    expect(answer.events[0]).toEqual(events[0]);

    // The same body, as a pull subscription backfilled from the start of the log, gets exactly those.
    const auth = await callerNamed(`filter-test-${engine.name}`);
    const created = await t.app.inject({ method: 'POST', url: subscriptionsPath, headers: auth, payload: { ...body, startFrom: '0' } });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().backfill.events).toBe(answer.matched);
    await drainReplays(t);
    const page = await pullClient(t.app, auth).page(created.json().id);
    expect(page.events.map((e) => e.id)).toEqual(expected);
  });

  it('tries only the newest `sample` events, Altinn filters alone included', async () => {
    const newest = await test({ resourceFilter: resource, typeFilter: 'no.altinn.a.created', sample: 10 });
    expect(newest.json()).toMatchObject({ sample: 10, matched: 2 });
    expect(newest.json().events.map((e: { id: string }) => e.id)).toEqual(['t21', 't27']);
    const byDefault = await test({ sourceFilter: 'https://api.domstol.no/dodsbo-api', filters: [{ exact: { sequence: '7' } }] });
    expect(byDefault.json()).toMatchObject({ sample: 1_000, matched: 1 });
  });

  it('shows at most the first hundred matches, and counts them all', async () => {
    const many = Array.from({ length: 130 }, (_, i) => sampleEvent({ id: `m${i}`, resource: otherResource, type: 'many.x' }));
    await pullClient(t.app, t.auth).publish(...many);
    const response = await test({ resourceFilter: otherResource, filters: [{ exact: { type: 'many.x' } }], sample: 200 });
    expect(response.json().matched).toBe(130);
    expect(response.json().events).toHaveLength(100);
    expect(response.json().events[0].id).toBe('m0');
  });

  it.each([
    [{ resourceFilter: resource, sample: 0 }, 'sample'],
    [{ resourceFilter: resource, sample: 10_001 }, 'sample'],
    [{ resourceFilter: resource, sample: 1.5 }, 'sample'],
    [{ resourceFilter: resource, sample: '100' }, 'sample'],
    [{ resourceFilter: resource, filters: [{ sql: 'type =' }] }, 'filters/0/sql'],
    [{ resourceFilter: resource, filters: [{ not: { any: [] } }] }, 'filters/0/not/any'],
    [{ filters: [{ exact: { type: 'a' } }] }, 'resourceFilter'],
    [{ resourceFilter: 'not-a-urn' }, 'resourceFilter'],
    [[], 'body'],
  ])('refuses %j as creating the subscription would, naming %s, and creates nothing', async (body, field) => {
    const auth = await callerNamed(`filter-test-bad-${engine.name}`);
    const response = await test(body, auth);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Object.keys(response.json().errors)).toContain(field);
    const listed = await t.app.inject({ method: 'GET', url: subscriptionsPath, headers: auth });
    expect(listed.json().subscriptions).toEqual([]);
  });

  it('needs the subscribe scope', async () => {
    const publisher = { authorization: `Bearer ${await testToken({ scope: scopes.publish })}` };
    const response = await test({ resourceFilter: resource }, publisher);
    expect(response.statusCode).toBe(403);
  });
});
