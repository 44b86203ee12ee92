import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { scopes } from '../../src/domain/identity.js';
import { deliveriesOf, publish, subscribe } from '../delivery/helpers.js';
import { describeEachEngine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { expectFieldError, expectProblem, recordingInject } from './harness.js';

/**
 * The delivery, attempts, resend, ping and redrive routes refuse what they cannot take with a 4xx problem, and
 * a refused request changes nothing: the one dead letter stays dead with its attempts, and nothing more is sent.
 */
describeEachEngine('Delivery routes with bad input on $name', (engine) => {
  let t: TestApp;
  let receiver: Receiver;
  let http: ReturnType<typeof recordingInject>;
  let subscriptionId: number;
  let deliveryId: number;
  let pullId: number;
  let before: unknown;
  const sent = () => receiver.events().length;
  let sentBefore = 0;

  beforeAll(async () => {
    t = await createTestApp(engine, undefined, { schedule: [], timeoutMs: 500 });
    http = recordingInject(t.app);
    receiver = await startReceiver();
    subscriptionId = (await subscribe(t, receiver.url)).id;
    receiver.behave(() => ({ status: 500 }));
    await publish(t, 'bad-input-1');
    await t.dispatcher.runOnce();
    const [dead] = await deliveriesOf(t, subscriptionId);
    expect(dead).toMatchObject({ status: 'dead' });
    deliveryId = Number(dead!.id);
    const pull = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/subscriptions',
      headers: t.auth,
      payload: { resourceFilter: 'urn:altinn:resource:delivery.test' },
    });
    pullId = (pull.json() as { id: number }).id;
    before = await deliveriesOf(t, subscriptionId);
    sentBefore = sent();
  });
  afterEach(async () => {
    expect(http.takeServerErrors(), 'no request may be answered with a 5xx').toEqual([]);
    expect(await deliveriesOf(t, subscriptionId), 'a refused request changes nothing').toEqual(before);
    expect(sent(), 'a refused request sends nothing').toBe(sentBefore);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  const api = (rest: string, id = subscriptionId) => `/events/api/v1/subscriptions/${id}${rest}`;
  const call = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = t.auth, payload?: unknown) =>
    http.inject({
      method,
      url,
      headers: payload === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
    });

  it.each([
    ['GET', ''],
    ['GET', '/attempts'],
    ['POST', '/resend'],
  ] as const)('%s a delivery%s with a malformed delivery id is a 400 naming deliveryId', async (method, rest) => {
    for (const bad of ['abc', '0', '-1', '1.5', '12345678901234567890']) {
      expectFieldError(await call(method, api(`/deliveries/${bad}${rest}`)), 'events:invalidRequest', 'deliveryId');
    }
  });

  it.each([
    ['GET', ''],
    ['GET', '/attempts'],
    ['POST', '/resend'],
  ] as const)('%s a delivery%s that does not exist, or of another subscription, is a 404', async (method, rest) => {
    expectProblem(await call(method, api(`/deliveries/${deliveryId + 1000}${rest}`)), 404, 'events:notFound');
    // Of another subscription of the same owner (a pull one; resending for it is a 409, below).
    if (method === 'GET') expectProblem(await call(method, api(`/deliveries/${deliveryId}${rest}`, pullId)), 404, 'events:notFound');
    expectProblem(await call(method, api(`/deliveries/${deliveryId}${rest}`, subscriptionId + 1000)), 404, 'events:notFound');
  });

  it("answers another owner's request about a subscription's delivery 404, as if it did not exist", async () => {
    const other = { authorization: `Bearer ${await testToken({ claims: { org: 'someone-else' } })}` };
    for (const [method, rest] of [
      ['GET', `/deliveries/${deliveryId}`],
      ['GET', `/deliveries/${deliveryId}/attempts`],
      ['POST', `/deliveries/${deliveryId}/resend`],
      ['POST', '/deliveries/redrive'],
      ['POST', '/ping'],
    ] as const) {
      expectProblem(await call(method, api(rest), other), 404, 'events:notFound');
    }
  });

  it('refuses a token without the subscribe scope: 403', async () => {
    const publisher = { authorization: `Bearer ${await testToken({ scope: scopes.publish })}` };
    for (const [method, rest] of [
      ['GET', `/deliveries/${deliveryId}`],
      ['GET', `/deliveries/${deliveryId}/attempts`],
      ['POST', `/deliveries/${deliveryId}/resend`],
      ['POST', '/ping'],
    ] as const) {
      expect((await call(method, api(rest), publisher)).statusCode).toBe(403);
    }
  });

  it.each([
    ['size=0'],
    ['size=101'],
    ['after=-1'],
    ['after=x'],
  ])('refuses attempts?%s: 400', async (query) => {
    expect((await call('GET', api(`/deliveries/${deliveryId}/attempts?${query}`))).statusCode).toBe(400);
  });

  it.each([
    ['an array', [1]],
    ['a string', '"dead"'],
    ['an unknown field', { statuscode: 503 }],
    ['a time without a zone', { diedFrom: '2024-05-01T12:00:00' }],
    ['a time that is not one', { diedUntil: 'yesterday' }],
    ['an empty range', { diedFrom: '2024-05-02T00:00:00Z', diedUntil: '2024-05-01T00:00:00Z' }],
    ['a status code out of range', { statusCode: 99 }],
    ['a status code as text', { statusCode: '503' }],
    ['an unknown error kind', { errorKind: 'gremlins' }],
    ['both a status code and an error kind', { statusCode: 503, errorKind: 'timeout' }],
  ])('refuses a redrive filter with %s: 400, and redrives nothing', async (_name, filter) => {
    const response = await call('POST', api('/deliveries/redrive'), t.auth, filter);
    expectProblem(response, 400, 'events:invalidRequest');
  });

  it('refuses to resend or ping for a pull subscription: 409, as it has no endpoint', async () => {
    expectProblem(await call('POST', api('/ping', pullId)), 409, 'events:pushOnly');
    expectProblem(await call('POST', api(`/deliveries/${deliveryId}/resend`, pullId)), 409, 'events:pushOnly');
  });

  it('limits how often one consumer may ping: 429 with Retry-After', async () => {
    const limited = { authorization: `Bearer ${await testToken({ claims: { org: 'pinger' } })}` };
    const created = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/subscriptions',
      headers: limited,
      payload: { endPoint: receiver.url, resourceFilter: 'urn:altinn:resource:other.test' },
    });
    const id = (created.json() as { id: number }).id;
    const answers: number[] = [];
    for (let i = 0; i < 8; i++) answers.push((await call('POST', api('/ping', id), limited)).statusCode);
    expect(answers.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    const refused = await call('POST', api('/ping', id), limited);
    expectProblem(refused, 429, 'events:tooManyRequests');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // The pings reached the endpoint, which is what they are for: not a change to this suite's deliveries.
    sentBefore = sent();
  });
});
