import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { callerNamed, resource, subscriptionsApi, subscriptionsPath } from './subscriptions-harness.js';
import { expectProblem } from './harness.js';

describeEachEngine('Reading and deleting subscriptions on $name', (engine) => {
  const api = subscriptionsApi(engine);
  const { create, created, listAll, freshEndpoint } = api;

  describe('GET /subscriptions', () => {
    it("lists only the caller's own subscriptions, oldest first", async () => {
      const auth = await callerNamed('lister');
      const mine = [
        await created({ endpoint: freshEndpoint(), resourceFilter: resource }, auth),
        await created({ endpoint: freshEndpoint(), sourceFilter: 'https://lister.test/app' }, auth),
      ];
      await created({ endpoint: freshEndpoint(), resourceFilter: resource }, await callerNamed('not-the-lister'));
      const response = await api.http.inject({ method: 'GET', url: subscriptionsPath, headers: auth });
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json();
      expect(body.count).toBe(2);
      expect(body.subscriptions.map((s: { id: number }) => s.id)).toEqual(mine.map((s) => s.id));
      expect(body.subscriptions.every((s: { consumer: string }) => s.consumer === '/org/lister')).toBe(true);
      expect(body).not.toHaveProperty('next');
    });

    it('answers an empty list to a caller with no subscriptions', async () => {
      const response = await api.http.inject({ method: 'GET', url: subscriptionsPath, headers: await callerNamed('nobody') });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ count: 0, subscriptions: [] });
    });

    it('pages with size and after, and a next link that visits every subscription once', async () => {
      const auth = await callerNamed('pager');
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) ids.push((await created({ endpoint: freshEndpoint(), resourceFilter: resource }, auth)).id);

      const seen: number[] = [];
      let url: string | undefined = `${subscriptionsPath}?size=2`;
      const pages: number[] = [];
      while (url !== undefined) {
        const response: LightMyRequestResponse = await api.http.inject({ method: 'GET', url, headers: auth });
        expect(response.statusCode, response.body).toBe(200);
        const body = response.json();
        expect(body.count).toBe(body.subscriptions.length);
        pages.push(body.count);
        seen.push(...body.subscriptions.map((s: { id: number }) => s.id));
        if (body.next !== undefined) expect(body.next).toMatch(new RegExp(`^${subscriptionsPath}\\?after=\\d+&size=2$`));
        url = body.next;
        expect(pages.length).toBeLessThan(10);
      }
      expect(seen).toEqual(ids);
      expect(pages).toEqual([2, 2, 1]);

      const after = await api.http.inject({ method: 'GET', url: `${subscriptionsPath}?after=${ids[2]}`, headers: auth });
      expect(after.json().subscriptions.map((s: { id: number }) => s.id)).toEqual(ids.slice(3));
    });

    it.each([
      ['size=0', 'size'],
      ['size=1001', 'size'],
      ['size=ten', 'size'],
      ['after=-1', 'after'],
      ['after=abc', 'after'],
    ])('refuses the query %s with a 400 naming %s', async (query, field) => {
      const body = expectProblem(
        await api.http.inject({ method: 'GET', url: `${subscriptionsPath}?${query}`, headers: api.t.auth }),
        400,
        'events:invalidQuery',
      );
      expect(Object.keys(body.errors ?? {})).toContain(field);
    });
  });

  describe('GET and DELETE /subscriptions/{id}', () => {
    it('answers GET with the subscription', async () => {
      const endpoint = freshEndpoint();
      const made = await created({ endpoint, resourceFilter: resource, alternativeSubjectFilter: '/person/16069412345' });
      const response = await api.http.inject({ method: 'GET', url: `${subscriptionsPath}/${made.id}`, headers: api.t.auth });
      expect(response.statusCode, response.body).toBe(200);
      const { secret: _secret, ...shown } = made;
      // A read adds what waits and what died (docs/subscriptions.md).
      expect(response.json()).toEqual({ ...shown, backlog: 0, deadLetters: 0 });
    });

    it('deletes a subscription: 200, then GET is 404, and a second DELETE is 404', async () => {
      const { id } = await created({ endpoint: freshEndpoint(), resourceFilter: resource });
      const deleted = await api.http.inject({ method: 'DELETE', url: `${subscriptionsPath}/${id}`, headers: api.t.auth });
      expect(deleted.statusCode, deleted.body).toBe(200);
      expectProblem(await api.http.inject({ method: 'GET', url: `${subscriptionsPath}/${id}`, headers: api.t.auth }), 404, 'events:notFound');
      expectProblem(await api.http.inject({ method: 'DELETE', url: `${subscriptionsPath}/${id}`, headers: api.t.auth }), 404, 'events:notFound');
      expect((await listAll(api.t.auth)).some((s) => s.id === id)).toBe(false);
    });

    it("treats another consumer's subscription as one that does not exist, on every route", async () => {
      const { id } = await created({ endpoint: freshEndpoint(), resourceFilter: resource });
      const intruder = await callerNamed('intruder');
      const attempts: [string, string][] = [
        ['GET', `${subscriptionsPath}/${id}`],
        ['DELETE', `${subscriptionsPath}/${id}`],
        ['POST', `${subscriptionsPath}/${id}/validate`],
        ['GET', `${subscriptionsPath}/${id}/deliveries`],
        ['POST', `${subscriptionsPath}/${id}/deliveries/redrive`],
      ];
      for (const [method, url] of attempts) {
        const body = expectProblem(await api.http.inject({ method: method as 'GET', url, headers: intruder }), 404, 'events:notFound');
        expect(body.detail).toBe(`You have no subscription with id '${id}'.`);
      }
      // Still there, untouched (the DELETE and validate did nothing).
      const mine = await api.http.inject({ method: 'GET', url: `${subscriptionsPath}/${id}`, headers: api.t.auth });
      expect(mine.statusCode).toBe(200);
      expect(mine.json().status).toBe('pending');
    });

    it.each(['abc', '1.5', '-1', '1e3', '0x10', '99999999999999999999', '9007199254740993', '123456789012345', '%20'])(
      'answers the id %j with 404, never a 5xx, on every route',
      async (id) => {
        for (const [method, url] of [
          ['GET', `${subscriptionsPath}/${id}`],
          ['DELETE', `${subscriptionsPath}/${id}`],
          ['POST', `${subscriptionsPath}/${id}/validate`],
          ['GET', `${subscriptionsPath}/${id}/deliveries`],
          ['POST', `${subscriptionsPath}/${id}/deliveries/redrive`],
        ] as const) {
          expectProblem(await api.http.inject({ method, url, headers: api.t.auth }), 404, 'events:notFound');
        }
      },
    );
  });

  describe("Altinn's clients' quirks", () => {
    const json = { 'content-type': 'application/json' };

    it('serves the list with a trailing slash', async () => {
      const response = await api.http.inject({ method: 'GET', url: `${subscriptionsPath}/`, headers: api.t.auth });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json().subscriptions.length).toBeGreaterThan(0);
    });

    it('creates with a trailing slash', async () => {
      const response = await api.http.inject({
        method: 'POST',
        url: `${subscriptionsPath}/`,
        headers: api.t.auth,
        payload: { endpoint: freshEndpoint(), resourceFilter: resource },
      });
      expect(response.statusCode, response.body).toBe(201);
    });

    it.each([
      ['a trailing slash', (id: number) => `${subscriptionsPath}/${id}/`],
      ['a doubled slash', (id: number) => `${subscriptionsPath}//${id}`],
      ['doubled slashes everywhere', (id: number) => `/events//api/v1//subscriptions//${id}/`],
    ])('serves GET and DELETE of one subscription with %s', async (_quirk, path) => {
      const { id } = await created({ endpoint: freshEndpoint(), resourceFilter: resource });
      const read = await api.http.inject({ method: 'GET', url: path(id), headers: api.t.auth });
      expect(read.statusCode, read.body).toBe(200);
      expect(read.json().id).toBe(id);
      const deleted = await api.http.inject({ method: 'DELETE', url: path(id), headers: api.t.auth });
      expect(deleted.statusCode, deleted.body).toBe(200);
      expect((await api.http.inject({ method: 'GET', url: path(id), headers: api.t.auth })).statusCode).toBe(404);
    });

    it('accepts Content-Type: application/json on bodyless GET, DELETE and POST requests', async () => {
      const { id } = await created({ endpoint: freshEndpoint(), resourceFilter: resource });
      const headers = { ...api.t.auth, ...json };
      const list = await api.http.inject({ method: 'GET', url: subscriptionsPath, headers });
      expect(list.statusCode, list.body).toBe(200);
      const one = await api.http.inject({ method: 'GET', url: `${subscriptionsPath}/${id}`, headers });
      expect(one.statusCode, one.body).toBe(200);
      const deliveries = await api.http.inject({ method: 'GET', url: `${subscriptionsPath}/${id}/deliveries`, headers });
      expect(deliveries.statusCode, deliveries.body).toBe(200);
      const validate = await api.http.inject({ method: 'POST', url: `${subscriptionsPath}/${id}/validate`, headers });
      expect(validate.statusCode, validate.body).toBe(202);
      const redrive = await api.http.inject({ method: 'POST', url: `${subscriptionsPath}/${id}/deliveries/redrive`, headers });
      expect(redrive.statusCode, redrive.body).toBe(200);
      expect(redrive.json()).toEqual({ redriven: 0 });
      const deleted = await api.http.inject({ method: 'DELETE', url: `${subscriptionsPath}/${id}`, headers });
      expect(deleted.statusCode, deleted.body).toBe(200);
    });

    it('accepts a charset parameter on the JSON body', async () => {
      const response = await create({ endpoint: freshEndpoint(), resourceFilter: resource }, api.t.auth, {
        'content-type': 'application/json; charset=utf-8',
      });
      expect(response.statusCode, response.body).toBe(201);
    });
  });
});
