import { beforeAll, describe, expect, it } from 'vitest';
import { scopes } from '../../src/domain/identity.js';
import { describeEachEngine } from '../support/engines.js';
import { startReceiver } from '../support/receiver.js';
import { sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { bearer, callerNamed, resource, subscriptionsApi, subscriptionsPath } from './subscriptions-harness.js';
import { eventsPath, expectProblem } from './harness.js';

describeEachEngine('The subscriptions API on $name', (engine) => {
  const api = subscriptionsApi(engine);
  const { create, created, listAll, freshEndpoint } = api;

  describe('POST /subscriptions', () => {
    it('answers 201 with the subscription, its secret and a Location', async () => {
      const endpoint = freshEndpoint();
      const before = api.t.clock.now();
      const response = await create({ endPoint: endpoint, resourceFilter: resource, typeFilter: 'no.altinn.events.test' });
      expect(response.statusCode, response.body).toBe(201);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      const body = response.json();
      expect(body).toMatchObject({
        endPoint: endpoint,
        resourceFilter: resource,
        typeFilter: 'no.altinn.events.test',
        consumer: '/org/ttd',
        createdBy: '/org/ttd',
        validated: false,
        status: 'pending',
      });
      expect(body.id).toEqual(expect.any(Number));
      expect(response.headers.location).toBe(`${subscriptionsPath}/${body.id}`);
      expect(body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
      expect(Date.parse(body.created)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(body.created)).toBeLessThanOrEqual(api.t.clock.now());
      // Null fields are omitted, as in Altinn's JSON.
      for (const absent of ['sourceFilter', 'subjectFilter', 'alternativeSubjectFilter', 'lastError']) {
        expect(body).not.toHaveProperty(absent);
      }
    });

    it('shows the ordering it was made with, on creation, on GET and in the list; unordered push shows none', async () => {
      const endpoint = freshEndpoint();
      const ordered = await created({ endPoint: endpoint, resourceFilter: resource, ordering: 'partitionkey', onDeadLetter: 'block' });
      expect(ordered).toMatchObject({ ordering: 'partitionkey', onDeadLetter: 'block' });
      const read = await api.http.inject({ method: 'GET', url: `${subscriptionsPath}/${ordered.id}`, headers: api.t.auth });
      expect(read.json()).toMatchObject({ ordering: 'partitionkey', onDeadLetter: 'block' });
      expect((await listAll(api.t.auth)).find((s) => s.id === ordered.id)).toMatchObject({ ordering: 'partitionkey', onDeadLetter: 'block' });
      const plain = await created({ endPoint: freshEndpoint(), resourceFilter: resource });
      expect(plain).toMatchObject({ ordering: 'none' });
      expect(plain).not.toHaveProperty('onDeadLetter');
      const pull = await created({ resourceFilter: resource, subjectFilter: `/party/${crypto.randomUUID()}` });
      expect(pull).not.toHaveProperty('ordering');
    });

    it('makes a subscription of its own for another ordering, and finds the same one for the same ordering', async () => {
      const endpoint = freshEndpoint();
      const unordered = await created({ endPoint: endpoint, resourceFilter: resource });
      const bySubject = await created({ endPoint: endpoint, resourceFilter: resource, ordering: 'subject' });
      expect(bySubject.id).not.toBe(unordered.id);
      expect((await created({ endPoint: endpoint, resourceFilter: resource, ordering: 'subject', onDeadLetter: 'skip' })).id).toBe(bySubject.id);
      expect((await created({ endPoint: endpoint, resourceFilter: resource, ordering: 'none' })).id).toBe(unordered.id);
    });

    it('never shows the secret again: not on GET of the subscription, not in the list', async () => {
      const { id } = await created({ endpoint: freshEndpoint(), resourceFilter: resource });
      const one = await api.http.inject({ method: 'GET', url: `${subscriptionsPath}/${id}`, headers: api.t.auth });
      expect(one.statusCode, one.body).toBe(200);
      expect(one.json()).not.toHaveProperty('secret');
      expect(one.body).not.toContain('whsec_');
      const listed = await api.http.inject({ method: 'GET', url: subscriptionsPath, headers: api.t.auth });
      expect(listed.body).not.toContain('whsec_');
    });

    it("accepts the example of Altinn's subscription page as written, Accept: application/xml and all", async () => {
      // spec/001, with webhook.site replaced by the loopback receiver; whitespace as on the page.
      const exampleReceiver = await startReceiver();
      try {
        const response = await create(
          `{\n  "sourceFilter": "https://digdir.apps.altinn.no/digdir/demoapp/%", \n  "endpoint":"${exampleReceiver.url}"\n  }`,
          api.t.auth,
          { accept: 'application/xml', 'content-type': 'application/json' },
        );
        expect(response.statusCode, response.body).toBe(201);
        expect(response.headers['content-type']).toMatch(/^application\/json/);
        const subscription = response.json();
        expect(subscription).toMatchObject({
          endPoint: exampleReceiver.url,
          sourceFilter: 'https://digdir.apps.altinn.no/digdir/demoapp/%',
          consumer: '/org/ttd',
          createdBy: '/org/ttd',
          validated: false,
        });

        // And it works: validated, then an event from an instance of the app reaches the api.receiver. The
        // consumer's earlier subscriptions in this suite have handshakes due too, two at a time per consumer.
        for (let round = 0; round < 50 && exampleReceiver.received.length === 0; round++) await api.t.dispatcher.runOnce();
        expect(exampleReceiver.received[0]?.json.type).toBe('platform.events.validatesubscription');
        const published = await api.http.inject({
          method: 'POST',
          url: eventsPath,
          headers: { ...api.t.auth, 'content-type': 'application/cloudevents+json' },
          payload: sampleEvent({ id: 'demoapp-1', source: 'https://digdir.apps.altinn.no/digdir/demoapp/instances/1' }),
        });
        expect(published.statusCode, published.body).toBe(200);
        await api.t.dispatcher.runOnce();
        expect(exampleReceiver.events().map((r) => r.json.id)).toEqual(['demoapp-1']);
      } finally {
        await exampleReceiver.close();
      }
    });

    it('reads the field names case-insensitively, as Altinn binds them', async () => {
      const endpoint = freshEndpoint();
      const body = await created({ ENDPOINT: endpoint, ResourceFilter: resource, subjectfilter: '/party/1' });
      expect(body).toMatchObject({ endPoint: endpoint, resourceFilter: resource, subjectFilter: '/party/1' });
    });

    it('takes consumer and createdBy from the token, never from the body', async () => {
      const body = await created({
        endpoint: freshEndpoint(),
        resourceFilter: resource,
        consumer: '/org/someone-else',
        createdBy: '/org/someone-else',
        id: 1234567,
        validated: true,
        status: 'active',
      });
      expect(body).toMatchObject({ consumer: '/org/ttd', createdBy: '/org/ttd', validated: false, status: 'pending' });
      expect(body.id).not.toBe(1234567);
      const other = await callerNamed('someone-else');
      expect(await listAll(other)).toEqual([]);
    });

    it('names the consumer after the token, whatever claim identifies it', async () => {
      const token = await testToken({ claims: { org: undefined, orgNumber: '991825827' } });
      const body = await created({ endpoint: freshEndpoint(), resourceFilter: resource }, bearer(token));
      expect(body).toMatchObject({ consumer: '/organisation/991825827', createdBy: '/organisation/991825827' });
    });

    it('answers an identical request by the same consumer with the same subscription', async () => {
      const request = { endpoint: freshEndpoint(), resourceFilter: resource, subjectFilter: '/party/2' };
      const first = await create(request);
      // The field names' case and unknown fields do not make it a different subscription.
      const second = await create({ EndPoint: request.endpoint, resourcefilter: resource, subjectFilter: '/party/2', x: 1 });
      expect(first.statusCode).toBe(201);
      expect(second.statusCode, second.body).toBe(201);
      expect(second.json().id).toBe(first.json().id);
      expect(second.headers.location).toBe(first.headers.location);
      expect((await listAll(api.t.auth)).filter((s) => s.endPoint === request.endpoint)).toHaveLength(1);
    });

    it('gives another consumer its own subscription for the same request', async () => {
      const request = { endpoint: freshEndpoint(), resourceFilter: resource };
      const mine = await created(request);
      const theirs = await created(request, await callerNamed('another-consumer'));
      expect(theirs.id).not.toBe(mine.id);
      expect(theirs).toMatchObject({ consumer: '/org/another-consumer', createdBy: '/org/another-consumer' });
      expect(theirs.secret).not.toBe(mine.secret);
    });

    it('makes a different filter a different subscription', async () => {
      const endpoint = freshEndpoint();
      const one = await created({ endpoint, resourceFilter: resource });
      const two = await created({ endpoint, resourceFilter: resource, typeFilter: 'no.altinn.events.other' });
      expect(two.id).not.toBe(one.id);
    });

    it('creates exactly one subscription from 20 concurrent identical requests', async () => {
      const auth = await callerNamed(`racer-${crypto.randomUUID().slice(0, 8)}`);
      const request = { endpoint: freshEndpoint(), resourceFilter: resource };
      const responses = await Promise.all(Array.from({ length: 20 }, () => create(request, auth)));
      for (const response of responses) expect(response.statusCode, response.body).toBe(201);
      const ids = new Set(responses.map((r) => r.json().id));
      expect(ids.size).toBe(1);
      const listed = await listAll(auth);
      expect(listed).toHaveLength(1);
      expect(listed[0]?.id).toBe([...ids][0]);
    });
  });

  describe('authentication and scope', () => {
    let someone: number;
    beforeAll(async () => {
      someone = (await created({ endpoint: freshEndpoint(), resourceFilter: resource })).id;
    });

    const routes = (id: number): [string, string][] => [
      ['POST', subscriptionsPath],
      ['GET', subscriptionsPath],
      ['GET', `${subscriptionsPath}/${id}`],
      ['DELETE', `${subscriptionsPath}/${id}`],
      ['POST', `${subscriptionsPath}/${id}/validate`],
      ['GET', `${subscriptionsPath}/${id}/deliveries`],
      ['POST', `${subscriptionsPath}/${id}/deliveries/redrive`],
    ];

    function send(method: string, url: string, headers: Record<string, string>) {
      const body = method === 'POST' && url === subscriptionsPath;
      return api.http.inject({
        method: method as 'GET',
        url,
        headers,
        ...(body ? { payload: { endpoint: freshEndpoint(), resourceFilter: resource } } : {}),
      });
    }

    it('answers 401 without a token, on every route', async () => {
      for (const [method, url] of routes(someone)) {
        const response = await send(method, url, {});
        expectProblem(response, 401, 'events:unauthenticated');
        expect(response.headers['www-authenticate'], `${method} ${url}`).toMatch(/^Bearer\b/);
      }
    });

    it(`answers 403 to a token without '${scopes.subscribe}', on every route`, async () => {
      const publishOnly = bearer(await testToken({ scope: `${scopes.publish} ${scopes.publishAdmin}` }));
      for (const [method, url] of routes(someone)) {
        const body = expectProblem(await send(method, url, publishOnly), 403, 'events:forbidden');
        expect(body.detail).toContain(`'${scopes.subscribe}'`);
      }
      expect((await listAll(api.t.auth)).filter((s) => s.id === someone)).toHaveLength(1);
    });

    it(`lets a token with only '${scopes.subscribe}' subscribe`, async () => {
      const subscribeOnly = bearer(await testToken({ scope: scopes.subscribe }));
      expect((await create({ endpoint: freshEndpoint(), resourceFilter: resource }, subscribeOnly)).statusCode).toBe(201);
    });
  });
});
