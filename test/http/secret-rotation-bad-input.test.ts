import { afterEach, beforeEach, expect, it } from 'vitest';
import { scopes } from '../../src/domain/identity.js';
import { describeEachEngine } from '../support/engines.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { expectProblem, recordingInject } from './harness.js';

const subscriptionsPath = '/events/api/v1/subscriptions';
const resourceFilter = 'urn:altinn:resource:rotation.test';

describeEachEngine('Rotation requests Herald refuses on $name', (engine) => {
  let t: TestApp;
  let http: ReturnType<typeof recordingInject>;
  let push: { id: number; secret: string };

  beforeEach(async () => {
    t = await createTestApp(engine);
    http = recordingInject(t.app);
    push = await create({ endPoint: 'http://127.0.0.1:9/hook', resourceFilter });
  });
  afterEach(async () => {
    expect(http.takeServerErrors(), 'no request may be answered with a 5xx').toEqual([]);
    await t?.close();
  });

  async function create(body: Record<string, unknown>) {
    const created = await http.inject({ method: 'POST', url: subscriptionsPath, headers: t.auth, payload: body });
    expect(created.statusCode, created.body).toBe(201);
    return created.json() as { id: number; secret: string };
  }

  function rotate(id: number | string, payload?: string, headers: Record<string, string> = t.auth) {
    return http.inject({
      method: 'POST',
      url: `${subscriptionsPath}/${id}/secret/rotate`,
      headers: { ...headers, 'content-type': 'application/json' },
      ...(payload === undefined ? {} : { payload }),
    });
  }

  /** The secret is the one creation showed, never rotated. */
  async function expectUnchanged(subscription = push): Promise<void> {
    const stored = await t.store.subscriptions.get(subscription.id);
    expect(stored).toMatchObject({ secret: subscription.secret, previousSecret: null, previousSecretUntil: null, secretVersion: 1 });
  }

  const badBodies: [string, unknown, string][] = [
    ['a negative grace', { graceSeconds: -1 }, 'graceSeconds'],
    ['a grace over 7 days', { graceSeconds: 604_801 }, 'graceSeconds'],
    ['a huge grace', { graceSeconds: 1e300 }, 'graceSeconds'],
    ['a fractional grace', { graceSeconds: 1.5 }, 'graceSeconds'],
    ['a grace as a string', { graceSeconds: '60' }, 'graceSeconds'],
    ['a grace as a boolean', { graceSeconds: true }, 'graceSeconds'],
    ['a grace as an object', { graceSeconds: { seconds: 60 } }, 'graceSeconds'],
    ['a misspelt field', { graceSecond: 60 }, 'graceSecond'],
    ['an unknown field beside a good grace', { graceSeconds: 60, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }, 'secret'],
    ['an array', [{ graceSeconds: 60 }], 'body'],
    ['a number', 60, 'body'],
    ['a string', 'graceSeconds=60', 'body'],
    ['null', null, 'body'],
  ];
  for (const [name, body, field] of badBodies) {
    it(`refuses ${name} with a 400 naming '${field}', changing nothing`, async () => {
      const problem = expectProblem(await rotate(push.id, JSON.stringify(body)), 400, 'events:invalidRequest');
      expect(Object.keys(problem.errors ?? {})).toContain(field);
      expect(JSON.stringify(problem)).not.toContain('whsec_');
      await expectUnchanged();
    });
  }

  it('refuses a body that is not JSON, changing nothing', async () => {
    expectProblem(await rotate(push.id, '{"graceSeconds": '), 400, 'events:invalidRequest');
    await expectUnchanged();
  });

  it('accepts the bounds, 0 and 7 days, and an empty object as the default', async () => {
    for (const body of [{ graceSeconds: 0 }, { graceSeconds: 604_800 }, {}, { graceSeconds: null }]) {
      expect((await rotate(push.id, JSON.stringify(body))).statusCode).toBe(200);
    }
    expect((await t.store.subscriptions.get(push.id))?.secretVersion).toBe(5);
  });

  it('refuses a pull subscription, which signs nothing, with a 409 events:pushOnly', async () => {
    const pull = await create({ resourceFilter });
    const problem = expectProblem(await rotate(pull.id), 409, 'events:pushOnly');
    expect(problem.detail).toMatch(/pull subscription/);
    await expectUnchanged(pull);
  });

  it("answers another consumer's subscription and unknown ids with 404s that change nothing", async () => {
    const other = { authorization: `Bearer ${await testToken({ claims: { org: 'other' } })}` };
    expectProblem(await rotate(push.id, '{}', other), 404, 'events:notFound');
    for (const id of ['999999', 'abc', '-1', '1e3', '9'.repeat(40)]) {
      expectProblem(await rotate(id, '{}'), 404, 'events:notFound');
    }
    await expectUnchanged();
  });

  it('refuses a token without the subscribe scope (403) and a request without a token (401)', async () => {
    const publisher = { authorization: `Bearer ${await testToken({ scope: scopes.publish })}` };
    expectProblem(await rotate(push.id, '{}', publisher), 403, 'events:forbidden');
    expectProblem(await rotate(push.id, '{}', {}), 401, 'events:unauthenticated');
    await expectUnchanged();
  });

  it('refuses a subscription an operator disabled with a 409', async () => {
    await t.store.subscriptions.disable(push.id, 'abuse');
    expectProblem(await rotate(push.id, '{}'), 409, 'events:disabledByOperator');
    expect(await t.store.subscriptions.get(push.id)).toMatchObject({ secret: push.secret, secretVersion: 1 });
  });
});
