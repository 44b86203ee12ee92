import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { scopes } from '../../src/domain/identity.js';
import { maxDisableReasonLength } from '../../src/domain/disable-request.js';
import { describeEachEngine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { createTestApp, sampleEvent, type TestApp } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';

const api = '/events/api/v1';
const subscriptionsPath = `${api}/subscriptions`;
/** The resource `sampleEvent()` carries. */
const resource = 'urn:altinn:resource:dodsbo.domstoladmin.api';

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Record<string, unknown> & { subscriptions?: { id: number }[] };
}

/**
 * The operator scope over real HTTP (a listening Herald, `fetch`): what an operator reads and changes across
 * consumers, and that no other consumer ever sees a subscription that is not theirs (docs/operators.md).
 */
describeEachEngine('Operators and other consumers over HTTP on $name', (engine) => {
  let t: TestApp;
  let origin: string;
  let receiver: Receiver;
  let serverErrors: string[] = [];
  const tokens = {} as Record<'ttd' | 'other' | 'operator' | 'operatorOnly' | 'noScopes', string>;
  /** ttd's push subscription, with one delivered event; ttd's pull subscription; other's push subscription. */
  const ids = { push: 0, pull: 0, others: 0, delivery: 0 };

  async function call(method: string, path: string, token: string | undefined, body?: unknown): Promise<Answer> {
    const response = await fetch(`${origin}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status >= 500) serverErrors.push(`${method} ${path} -> ${response.status} ${text.slice(0, 200)}`);
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : {} };
  }

  function expectProblem(answer: Answer, status: number, code: string): Record<string, unknown> {
    expect(answer.status, JSON.stringify(answer.body)).toBe(status);
    expect(answer.contentType).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ status, code });
    return answer.body;
  }

  const listedIds = (answer: Answer) => (answer.body.subscriptions ?? []).map((s) => s.id);

  beforeAll(async () => {
    t = await createTestApp(engine);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    origin = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    receiver = await startReceiver();
    tokens.ttd = t.token;
    tokens.other = await testToken({ claims: { org: 'other' } });
    tokens.operator = await testToken({ scope: `${scopes.operator} ${scopes.subscribe}`, claims: { org: 'ops' } });
    tokens.operatorOnly = await testToken({ scope: scopes.operator, claims: { org: 'ops' } });
    tokens.noScopes = await testToken({ scope: '' });
    const push = await call('POST', subscriptionsPath, tokens.ttd, { endPoint: `${receiver.url}/ttd`, resourceFilter: resource });
    const pull = await call('POST', subscriptionsPath, tokens.ttd, { resourceFilter: resource });
    const others = await call('POST', subscriptionsPath, tokens.other, { endPoint: `${receiver.url}/other`, resourceFilter: resource });
    for (const made of [push, pull, others]) expect(made.status, JSON.stringify(made.body)).toBe(201);
    [ids.push, ids.pull, ids.others] = [push, pull, others].map((made) => made.body.id as number) as [number, number, number];
    await t.dispatcher.runOnce(); // the handshakes
    const published = await fetch(`${origin}${api}/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.ttd}`, 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(sampleEvent()),
    });
    expect(published.status).toBe(200);
    await t.dispatcher.runOnce(); // the deliveries
    const deliveries = await call('GET', `${subscriptionsPath}/${ids.push}/deliveries`, tokens.ttd);
    ids.delivery = (deliveries.body.deliveries as { id: number; status: string }[])[0]?.id ?? 0;
    expect(ids.delivery).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });
  afterEach(() => {
    expect(serverErrors, 'no request may be answered with a 5xx').toEqual([]);
    serverErrors = [];
  });

  describe('GET /me', () => {
    it('says who the caller is, its scopes and whether it is an operator', async () => {
      expect((await call('GET', `${api}/me`, tokens.ttd)).body).toEqual({
        consumer: '/org/ttd',
        scopes: [scopes.publish, scopes.subscribe].sort(),
        operator: false,
      });
      expect((await call('GET', `${api}/me`, tokens.operatorOnly)).body).toEqual({ consumer: '/org/ops', scopes: [scopes.operator], operator: true });
    });

    it('answers any valid token, even one without scopes, and refuses no token', async () => {
      expect((await call('GET', `${api}/me`, tokens.noScopes)).body).toEqual({ consumer: '/org/ttd', scopes: [], operator: false });
      expectProblem(await call('GET', `${api}/me`, undefined), 401, 'events:unauthenticated');
      expectProblem(await call('GET', `${api}/me`, 'not-a-token'), 401, 'events:unauthenticated');
    });
  });

  describe("another consumer's subscription", () => {
    it('is never listed for a consumer, with or without consumer=', async () => {
      expect(listedIds(await call('GET', subscriptionsPath, tokens.other))).toEqual([ids.others]);
      expect(listedIds(await call('GET', subscriptionsPath, tokens.ttd))).toEqual([ids.push, ids.pull]);
      for (const consumer of ['*', '/org/ttd', '/org/other', 'not a consumer']) {
        const answer = await call('GET', `${subscriptionsPath}?${new URLSearchParams({ consumer })}`, tokens.other);
        const problem = expectProblem(answer, 403, 'events:forbidden');
        expect(problem.detail).toMatch(/Only an operator/);
      }
    });

    it('is a 404 on every route that names it, exactly as an id that does not exist', async () => {
      const paths = (id: number) => [
        ['GET', `${subscriptionsPath}/${id}`],
        ['GET', `${subscriptionsPath}/${id}/deliveries`],
        ['GET', `${subscriptionsPath}/${id}/deliveries/${ids.delivery}`],
        ['GET', `${subscriptionsPath}/${id}/deliveries/${ids.delivery}/attempts`],
        ['POST', `${subscriptionsPath}/${id}/deliveries/redrive`],
        ['POST', `${subscriptionsPath}/${id}/deliveries/${ids.delivery}/resend`],
      ] as const;
      const missing = 987_654;
      for (const [[method, path], [, missingPath]] of paths(ids.push).map((p, i) => [p, paths(missing)[i]!] as const)) {
        const theirs = expectProblem(await call(method, path, tokens.other), 404, 'events:notFound');
        const none = expectProblem(await call(method, missingPath, tokens.other), 404, 'events:notFound');
        expect(theirs.detail, path).toBe(String(none.detail).replace(String(missing), String(ids.push)));
      }
    });
  });

  describe('an operator', () => {
    it("lists every consumer's subscriptions, or one consumer's, and pages keep the consumer", async () => {
      expect(listedIds(await call('GET', `${subscriptionsPath}?consumer=*`, tokens.operator))).toEqual([ids.push, ids.pull, ids.others]);
      expect(listedIds(await call('GET', `${subscriptionsPath}?consumer=${encodeURIComponent('/org/other')}`, tokens.operatorOnly))).toEqual([
        ids.others,
      ]);
      expect(listedIds(await call('GET', `${subscriptionsPath}?consumer=/org/nobody`, tokens.operator))).toEqual([]);
      // Without consumer=, an operator's own, like anyone's.
      expect(listedIds(await call('GET', subscriptionsPath, tokens.operator))).toEqual([]);
      const first = await call('GET', `${subscriptionsPath}?consumer=/org/ttd&size=1`, tokens.operator);
      expect(listedIds(first)).toEqual([ids.push]);
      expect(first.body.next).toBe(`${subscriptionsPath}?after=${ids.push}&size=1&consumer=%2Forg%2Fttd`);
      expect(listedIds(await call('GET', String(first.body.next), tokens.operator))).toEqual([ids.pull]);
    });

    it("reads anyone's subscription, its deliveries, a delivery and its attempts, with the operator scope alone", async () => {
      for (const token of [tokens.operator, tokens.operatorOnly]) {
        expect((await call('GET', `${subscriptionsPath}/${ids.push}`, token)).body).toMatchObject({ id: ids.push, consumer: '/org/ttd' });
        const deliveries = await call('GET', `${subscriptionsPath}/${ids.push}/deliveries`, token);
        expect((deliveries.body.deliveries as { id: number }[]).map((d) => d.id)).toEqual([ids.delivery]);
        expect((await call('GET', `${subscriptionsPath}/${ids.push}/deliveries/${ids.delivery}`, token)).body).toMatchObject({
          id: ids.delivery,
          status: 'delivered',
        });
        const attempts = await call('GET', `${subscriptionsPath}/${ids.push}/deliveries/${ids.delivery}/attempts`, token);
        expect(attempts.body.count).toBe(1);
      }
    });

    it("redrives and resends on anyone's subscription", async () => {
      expect((await call('POST', `${subscriptionsPath}/${ids.push}/deliveries/redrive`, tokens.operator)).body).toEqual({ redriven: 0 });
      const resent = await call('POST', `${subscriptionsPath}/${ids.push}/deliveries/${ids.delivery}/resend`, tokens.operatorOnly);
      expect(resent.status, JSON.stringify(resent.body)).toBe(200);
      expect(resent.body).toMatchObject({ id: ids.delivery, status: 'pending' });
      await t.dispatcher.runOnce();
    });

    it("gets a 404 for what stays the owner's: validate, delete, ping, secret rotation, replays, the pull queue", async () => {
      for (const [method, path] of [
        ['POST', `${subscriptionsPath}/${ids.push}/validate`],
        ['DELETE', `${subscriptionsPath}/${ids.push}`],
        ['POST', `${subscriptionsPath}/${ids.push}/ping`],
        ['POST', `${subscriptionsPath}/${ids.push}/secret/rotate`],
        ['GET', `${subscriptionsPath}/${ids.push}/replays`],
        ['GET', `${subscriptionsPath}/${ids.pull}/events`],
      ] as const) {
        expectProblem(await call(method, path, tokens.operator), 404, 'events:notFound');
      }
      expect((await call('GET', `${subscriptionsPath}/${ids.push}`, tokens.ttd)).body).toMatchObject({ status: 'active' });
    });

    it('disables with a reason: the owner sees it and gets the 409 on changes; enabling lets it receive again', async () => {
      const reason = 'Endpoint under review: contact the operators.';
      const disabled = await call('POST', `${subscriptionsPath}/${ids.others}/disable`, tokens.operatorOnly, { reason });
      expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);
      expect(disabled.body).toMatchObject({ id: ids.others, status: 'disabled', disabledBy: 'operator', lastError: reason, backlog: 0, deadLetters: 0 });
      expect((await call('GET', `${subscriptionsPath}/${ids.others}`, tokens.other)).body).toEqual(disabled.body);
      for (const [method, path] of [
        ['DELETE', `${subscriptionsPath}/${ids.others}`],
        ['POST', `${subscriptionsPath}/${ids.others}/validate`],
        ['POST', `${subscriptionsPath}/${ids.others}/deliveries/redrive`],
      ] as const) {
        const problem = expectProblem(await call(method, path, tokens.other), 409, 'events:disabledByOperator');
        expect(problem.detail).toContain('Endpoint under review: contact the operators');
      }
      // Again: left as it is, the first reason kept (as `herald subscriptions disable` does).
      const again = await call('POST', `${subscriptionsPath}/${ids.others}/disable`, tokens.operator, { reason: 'another' });
      expect(again.body).toMatchObject({ status: 'disabled', lastError: reason });

      const enabled = await call('POST', `${subscriptionsPath}/${ids.others}/enable`, tokens.operator);
      expect(enabled.status, JSON.stringify(enabled.body)).toBe(200);
      // A push subscription runs the handshake again before it receives.
      expect(enabled.body).toMatchObject({ id: ids.others, status: 'pending' });
      expect(enabled.body.disabledBy).toBeUndefined();
      await t.dispatcher.runOnce();
      expect((await call('GET', `${subscriptionsPath}/${ids.others}`, tokens.other)).body).toMatchObject({ status: 'active' });
    });

    it('disables a pull subscription without a body, and enabling makes it active at once', async () => {
      const disabled = await call('POST', `${subscriptionsPath}/${ids.pull}/disable`, tokens.operator);
      expect(disabled.body).toMatchObject({ status: 'disabled', lastError: 'Disabled by an operator.' });
      expectProblem(await call('POST', `${subscriptionsPath}/${ids.pull}/deliveries/redrive`, tokens.ttd), 409, 'events:disabledByOperator');
      expect((await call('POST', `${subscriptionsPath}/${ids.pull}/enable`, tokens.operator, {})).body).toMatchObject({ status: 'active' });
    });
  });

  describe('a non-operator', () => {
    it('is refused disable and enable (403), even on its own subscription, and nothing changes', async () => {
      for (const token of [tokens.ttd, tokens.other]) {
        for (const action of ['disable', 'enable']) {
          const problem = expectProblem(await call('POST', `${subscriptionsPath}/${ids.push}/${action}`, token, {}), 403, 'events:forbidden');
          expect(problem.detail).toBe(`This requires the scope '${scopes.operator}'.`);
        }
      }
      // An id that does not exist is the same 403: the answer tells nothing of it.
      expectProblem(await call('POST', `${subscriptionsPath}/987654/disable`, tokens.other), 403, 'events:forbidden');
      expect((await call('GET', `${subscriptionsPath}/${ids.push}`, tokens.ttd)).body).toMatchObject({ status: 'active' });
      expect(((await call('GET', `${subscriptionsPath}/${ids.push}`, tokens.ttd)).body as { disabledBy?: string }).disabledBy).toBeUndefined();
    });
  });

  describe('bad input', () => {
    it.each([
      ['empty', ''],
      ['a bare org', 'ttd'],
      ['two segments', '/org/a/b'],
      ['an unknown namespace', '/team/x'],
      ['%2f where Herald writes %2F', '/sub/a%2fb'],
      ['**', '**'],
    ])("answers a listing's consumer that is %s with a 400 naming consumer", async (_what, consumer) => {
      const problem = expectProblem(await call('GET', `${subscriptionsPath}?${new URLSearchParams({ consumer })}`, tokens.operator), 400, 'events:invalidQuery');
      expect(Object.keys(problem.errors as object)).toEqual(['consumer']);
    });

    it.each([
      ['an empty reason', { reason: '' }, 'reason'],
      ['a blank reason', { reason: '   ' }, 'reason'],
      ['a reason that is not text', { reason: 5 }, 'reason'],
      ['a reason of two lines', { reason: 'first\nsecond' }, 'reason'],
      ['a reason too long', { reason: 'x'.repeat(maxDisableReasonLength + 1) }, 'reason'],
      ['a misspelt field', { reson: 'x' }, 'reson'],
      ['an array', ['x'], 'body'],
      ['a string', 'x', 'body'],
    ])('answers a disable with %s with a 400 naming it, and disables nothing', async (_what, body, field) => {
      const problem = expectProblem(await call('POST', `${subscriptionsPath}/${ids.push}/disable`, tokens.operator, body), 400, 'events:invalidRequest');
      expect(Object.keys(problem.errors as object)).toContain(field);
      expect((await call('GET', `${subscriptionsPath}/${ids.push}`, tokens.ttd)).body).toMatchObject({ status: 'active' });
    });

    it('answers an enable with a body with a 400', async () => {
      expectProblem(await call('POST', `${subscriptionsPath}/${ids.push}/enable`, tokens.operator, { now: true }), 400, 'events:invalidRequest');
    });

    it('answers an id that is unknown or cannot be one with a 404, and a body that is not JSON with a 415', async () => {
      for (const id of ['987654', 'abc', '1.5', '-1', '9'.repeat(20)]) {
        for (const action of ['disable', 'enable']) {
          expectProblem(await call('POST', `${subscriptionsPath}/${id}/${action}`, tokens.operator), 404, 'events:notFound');
        }
      }
      const answer = await fetch(`${origin}${subscriptionsPath}/${ids.push}/disable`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.operator}`, 'content-type': 'text/plain' },
        body: 'because',
      });
      expect(answer.status).toBe(415);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    });
  });
});
