import { afterEach, beforeEach, expect, it } from 'vitest';
import { scopes } from '../../src/domain/identity.js';
import { describeEachEngine } from '../support/engines.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { expectProblem, recordingInject } from './harness.js';
import { instantBetween, replayClient, replayResource, subscriptionsPath } from './replay-harness.js';

describeEachEngine('Replay requests Herald refuses on $name', (engine) => {
  let t: TestApp;
  let http: ReturnType<typeof recordingInject>;
  let client: ReturnType<typeof replayClient>;
  let subscription: number;

  beforeEach(async () => {
    t = await createTestApp(engine, undefined, { replayLimits: { perSubscription: 1, perConsumer: 2, examinedRows: 50 } });
    http = recordingInject(t.app);
    client = replayClient({ ...t, app: { inject: http.inject } as unknown as TestApp['app'] }, t.auth);
    subscription = await pullSubscription();
    await client.publish('e1', 'e2', 'e3');
  });
  afterEach(async () => {
    expect(http.takeServerErrors(), 'no request may be answered with a 5xx').toEqual([]);
    await t?.close();
  });

  async function pullSubscription(filters: Record<string, string> = {}): Promise<number> {
    const created = await client.subscribe({ resourceFilter: replayResource, ...filters });
    expect(created.statusCode, created.body).toBe(201);
    return (created.json() as { id: number }).id;
  }

  /** Nothing a refused request could have changed did: no replay, no delivery but the three published. */
  async function expectNothingChanged(id = subscription): Promise<void> {
    expect(await client.list(id)).toEqual([]);
    expect((await client.deliveries(id)).every((d) => d.replayId === undefined)).toBe(true);
    expect(await t.replayer.runOnce()).toBe(0);
  }

  const badBodies: [string, unknown, string][] = [
    ['both from and after', { from: '2024-05-01T12:00:00Z', after: '0' }, 'after'],
    ['neither from nor after', { until: '2024-05-01T12:00:00Z' }, 'from'],
    ['a time that is not RFC 3339', { from: 'yesterday' }, 'from'],
    ['a time without a time zone', { from: '2024-05-01T12:00:00' }, 'from'],
    ['a date that does not exist', { from: '2024-02-30T12:00:00Z' }, 'from'],
    ['a number for a time', { from: 1714564800000 }, 'from'],
    ['a bad until', { from: '2024-05-01T12:00:00Z', until: '2024-05-01' }, 'until'],
    ['until before from', { from: '2024-05-01T12:00:00Z', until: '2024-05-01T11:59:59.999Z' }, 'until'],
    ['an empty after', { after: '' }, 'after'],
    ['a number for after', { after: 3 }, 'after'],
    ['control characters in after', { after: 'e\u0001' }, 'after'],
    ['an after longer than any event id', { after: 'x'.repeat(1025) }, 'after'],
    ['a misspelt field', { after: '0', untl: '2024-05-01T12:00:00Z' }, 'untl'],
    ['a dryRun that is not a boolean', { after: '0', dryRun: 'yes' }, 'dryRun'],
    ['an array', [{ after: '0' }], 'body'],
    ['a string', 'after=0', 'body'],
  ];
  for (const [name, body, field] of badBodies) {
    it(`refuses ${name} with a 400 naming '${field}', changing nothing`, async () => {
      const problem = expectProblem(await client.replay(subscription, body), 400, 'events:invalidRequest');
      expect(Object.keys(problem.errors ?? {})).toContain(field);
      await expectNothingChanged();
    });
  }

  it('refuses an empty body and a body that is not JSON', async () => {
    const empty = await http.inject({
      method: 'POST',
      url: `${subscriptionsPath}/${subscription}/replay`,
      headers: { ...t.auth, 'content-type': 'application/json' },
    });
    expectProblem(empty, 400, 'events:invalidRequest');
    const notJson = await http.inject({
      method: 'POST',
      url: `${subscriptionsPath}/${subscription}/replay`,
      headers: { ...t.auth, 'content-type': 'application/json' },
      payload: '{"after": ',
    });
    expectProblem(notJson, 400, 'events:invalidRequest');
    await expectNothingChanged();
  });

  it("refuses an until before the event 'after' names", async () => {
    const before = await instantBetween();
    await client.publish('later');
    const problem = expectProblem(await client.replay(subscription, { after: 'later', until: before }), 400, 'events:invalidRequest');
    expect(problem.errors).toHaveProperty('until');
    await expectNothingChanged();
  });

  it('refuses an after naming no known event, or a position beyond the log, as unknown cursors', async () => {
    expectProblem(await client.replay(subscription, { after: 'never-published' }), 400, 'events:unknownCursor');
    expectProblem(await client.replay(subscription, { after: '~999999999999999', dryRun: true }), 400, 'events:unknownCursor');
    await expectNothingChanged();
  });

  it("answers another consumer's subscription and replays, and unknown ids, with 404s that change nothing", async () => {
    const replay = await client.start(subscription, { after: '0' });
    const other = { authorization: `Bearer ${await testToken({ claims: { org: 'other' } })}` };
    expectProblem(await client.replay(subscription, { after: '0' }, other), 404, 'events:notFound');
    expectProblem(await client.get(subscription, replay.id, other), 404, 'events:notFound');
    expectProblem(await client.cancel(subscription, replay.id, other), 404, 'events:notFound');
    expect((await client.get(subscription, replay.id)).json()).toMatchObject({ status: 'running' });
    for (const id of ['999999', 'abc', '-1', '1e3', '9'.repeat(40)]) {
      expectProblem(await client.get(subscription, id), 404, 'events:notFound');
      expectProblem(await client.cancel(subscription, id), 404, 'events:notFound');
    }
    expectProblem(await client.replay(999_999, { after: '0' }), 404, 'events:notFound');
    expectProblem(await client.replay('x1', { after: '0' }), 404, 'events:notFound');
    // A replay of another subscription is not found under this one.
    const second = await pullSubscription({ typeFilter: 'no.altinn.events.digitalt-dodsbo.opprettet' });
    expectProblem(await client.get(second, replay.id), 404, 'events:notFound');
    expect(await client.list(subscription)).toHaveLength(1);
  });

  it('refuses a token without the subscribe scope', async () => {
    const publisher = { authorization: `Bearer ${await testToken({ scope: scopes.publish })}` };
    expectProblem(await client.replay(subscription, { after: '0' }, publisher), 403, 'events:forbidden');
    await expectNothingChanged();
  });

  it('refuses a replay over the limits of replays in progress, per subscription and per consumer, with a 409', async () => {
    await client.start(subscription, { after: '0' });
    const perSubscription = expectProblem(await client.replay(subscription, { after: 'e1' }), 409, 'events:replayLimit');
    expect(perSubscription.detail).toMatch(/Subscription \d+ has 1 replays in progress/);
    // A dry run starts nothing, so it counts as ever.
    expect(await client.count(subscription, { after: 'e1' })).toBe(2);
    const second = await pullSubscription({ typeFilter: 'no.altinn.events.digitalt-dodsbo.opprettet' });
    await client.start(second, { after: '0' });
    const third = await pullSubscription({ subjectFilter: '/party/1' });
    const perConsumer = expectProblem(await client.replay(third, { after: '0' }), 409, 'events:replayLimit');
    expect(perConsumer.detail).toMatch(/Your subscriptions have 2 replays in progress/);
    expect(await client.list(third)).toEqual([]);
    expect(await client.list(subscription)).toHaveLength(1);
  });

  it('refuses a range that would examine more of the log than allowed, dry run or not', async () => {
    const batch = Array.from({ length: 60 }, (_, i) => `bulk-${i}`);
    await client.publish(...batch);
    expectProblem(await client.replay(subscription, { after: '0' }), 400, 'events:replayTooLarge');
    expectProblem(await client.replay(subscription, { after: '0', dryRun: true }), 400, 'events:replayTooLarge');
    await expectNothingChanged();
    // A narrower range goes.
    expect(await client.count(subscription, { after: 'bulk-29' })).toBe(30);
  });

  it('refuses to replay to a subscription its endpoint or an operator disabled, with a 409', async () => {
    const push = await client.subscribe({ endPoint: 'http://127.0.0.1:9/hook', resourceFilter: replayResource });
    const id = (push.json() as { id: number }).id;
    await t.store.subscriptions.setStatus(id, 'disabled', 'The endpoint answered 410 Gone.');
    expectProblem(await client.replay(id, { after: '0' }), 409, 'events:subscriptionDisabled');
    await t.store.subscriptions.disable(subscription, 'abuse');
    expectProblem(await client.replay(subscription, { after: '0' }), 409, 'events:disabledByOperator');
    await expectNothingChanged(id);
    expect(await client.list(subscription)).toEqual([]);
  });
});
