import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { createTestApp, sampleEvent, type TestApp } from '../support/test-app.js';
import {
  eventsPath,
  expectFieldError,
  expectProblem,
  expectStillServing,
  recordingInject,
} from './harness.js';

const resource = 'urn:altinn:resource:herald.poll-test';
const source = `https://poll-test.example/instances/${crypto.randomUUID()}`;
/** Encoded, for tests that do not care how the query is written. */
const filter = `resource=${encodeURIComponent(resource)}`;

describeEachEngine('GET /events with bad input on $name', (engine) => {
  describe('on a log holding three events', () => {
    let t: TestApp;
    let http: ReturnType<typeof recordingInject>;
    const logged = [1, 2, 3].map((n) => sampleEvent({ source, resource, subject: `/party/${n}` }));

    beforeAll(async () => {
      t = await createTestApp(engine);
      http = recordingInject(t.app);
      const response = await t.app.inject({
        method: 'POST',
        url: eventsPath,
        headers: { ...t.auth, 'content-type': 'application/cloudevents-batch+json' },
        payload: JSON.stringify(logged),
      });
      expect(response.statusCode).toBe(200);
    });
    afterAll(async () => t?.close());
    afterEach(() => {
      expect(http.takeServerErrors(), 'no request may be answered with a 5xx').toEqual([]);
    });

    /** Polls with the query exactly as written (no encoding added). */
    function poll(query: string, headers: Record<string, string> = {}, path = eventsPath) {
      return http.inject({ method: 'GET', url: `${path}?${query}`, headers: { ...t.auth, ...headers } });
    }

    describe('required parameters', () => {
      it("refuses a poll without 'after' with Altinn's message", async () => {
        const message = "The 'after' parameter must be defined.";
        const body = expectFieldError(await poll(filter), 'events:invalidQuery', 'after', message);
        expect(body.detail).toBe(message);
      });

      it("refuses a poll with neither 'resource' nor 'source'", async () => {
        expectFieldError(
          await poll('after=0'),
          'events:invalidQuery',
          'resource',
          "The 'resource' or 'source' parameter must be defined.",
        );
      });

      it('names every missing parameter of an empty query', async () => {
        const response = await http.inject({ method: 'GET', url: eventsPath, headers: t.auth });
        const body = expectProblem(response, 400, 'events:invalidQuery');
        expect(Object.keys(body.errors ?? {}).sort()).toEqual(['after', 'resource']);
      });

      it.each([
        'notaurn',
        'urn:altinn',
        'URN:altinn:resource:x',
        'urn:altinn:resource:Upper',
        'urn:altinn:resource:with%20space',
        'https://altinn.no/resource',
      ])('refuses the resource %j as not a valid URN', async (value) => {
        expectFieldError(
          await poll(`after=0&resource=${value}`),
          'events:invalidQuery',
          'resource',
          "The 'resource' parameter must be a valid urn.",
        );
      });
    });

    describe('subject and alternative subject', () => {
      const message = "Only one of 'subject' or 'alternativeSubject' can be defined.";

      it('refuses both in the query', async () => {
        const body = expectFieldError(
          await poll(`after=0&${filter}&subject=/party/1&alternativesubject=/person/01017012345`),
          'events:invalidQuery',
          'subject',
          message,
        );
        expect(body.detail).toBe(message);
      });

      it('refuses a subject in the query with an Altinn-AlternativeSubject header', async () => {
        const body = expectFieldError(
          await poll(`after=0&${filter}&subject=/party/1`, {
            'altinn-alternativesubject': '/person/01017012345',
          }),
          'events:invalidQuery',
          'subject',
          message,
        );
        expect(body.detail).toBe(message);
      });

      it('accepts the alternative subject in the header alone', async () => {
        const response = await poll(`after=0&${filter}`, {
          'Altinn-AlternativeSubject': '/person/01017012345',
        });
        expect(response.statusCode, response.body).toBe(200);
        expect(response.json()).toEqual([]);
        expect(response.headers.next).not.toContain('01017012345');
      });
    });

    describe('size', () => {
      it.each(['abc', '1.5', '10abc', '1e3', '0x10', '99999999999999'])('refuses size=%s', async (size) => {
        expectFieldError(
          await poll(`after=0&${filter}&size=${size}`),
          'events:invalidQuery',
          'size',
          "The 'size' parameter must be an integer.",
        );
      });

      it.each(['0', '-5', '5000'])('clamps size=%s as Altinn does instead of refusing it', async (size) => {
        const response = await poll(`after=0&${filter}&size=${size}`);
        expect(response.statusCode, response.body).toBe(200);
        expect(response.json()).toEqual(logged);
      });
    });

    describe('repeated parameters', () => {
      it.each([
        ['after', `after=0&after=0&${filter}`],
        ['resource', `after=0&${filter}&${filter}`],
        ['source', `after=0&source=a&source=b`],
        ['subject', `after=0&${filter}&subject=/party/1&subject=/party/2`],
        ['alternativesubject', `after=0&${filter}&alternativesubject=a&alternativesubject=b`],
        ['size', `after=0&${filter}&size=1&size=2`],
      ])('refuses a repeated %s', async (name, query) => {
        expectFieldError(await poll(query), 'events:invalidQuery', name);
      });

      it('accepts a repeated type, which is a list', async () => {
        const response = await poll(
          `after=0&${filter}&type=a&type=${encodeURIComponent(String(logged[0]?.type))}`,
        );
        expect(response.statusCode, response.body).toBe(200);
        expect(response.json()).toEqual(logged);
      });

      it('refuses more than 100 type values', async () => {
        const types = Array.from({ length: 1000 }, (_, i) => `type=t${i}%25`).join('&');
        expectFieldError(await poll(`after=0&${filter}&${types}`), 'events:invalidQuery', 'type');
      });

      it('accepts 100 type values', async () => {
        const types = Array.from({ length: 100 }, (_, i) => `type=t${i}%25`).join('&');
        expect((await poll(`after=0&${filter}&${types}`)).statusCode).toBe(200);
      });
    });

    describe("the 'after' cursor", () => {
      it('refuses an event id Herald does not know instead of replaying from the start', async () => {
        const body = expectProblem(
          await poll(`after=${crypto.randomUUID()}&${filter}`),
          400,
          'events:unknownCursor',
        );
        expect(body.detail).toMatch(/No event with the id given in 'after' is known/);
      });

      it('refuses a position beyond the end of the log', async () => {
        // Far beyond any head: PostgreSQL's positions start at the day's partition range (about 2 × 10^14).
        const body = expectProblem(await poll(`after=~900000000000000&${filter}`), 400, 'events:unknownCursor');
        expect(body.detail).toContain('900000000000000');
      });

      it.each(['~abc', '~-1', '-1', '~1.5', '~9999999999999999999'])(
        'refuses the cursor %j as unknown',
        async (after) => {
          expectProblem(
            await poll(`after=${encodeURIComponent(after)}&${filter}`),
            400,
            'events:unknownCursor',
          );
        },
      );

      it('reads on from a known event id', async () => {
        const response = await poll(`after=${logged[0]?.id}&${filter}`);
        expect(response.statusCode, response.body).toBe(200);
        expect(response.json()).toEqual(logged.slice(1));
      });
    });

    describe('empty parameter values', () => {
      it.each([
        ['after', `after=&${filter}`],
        ['resource', `after=0&source=${encodeURIComponent(source)}&resource=`],
        ['source', `after=0&${filter}&source=`],
        ['subject', `after=0&${filter}&subject=`],
        ['alternativesubject', `after=0&${filter}&alternativesubject=`],
        ['type', `after=0&${filter}&type=`],
      ])('refuses an empty %s', async (name, query) => {
        expectFieldError(
          await poll(query),
          'events:invalidQuery',
          name,
          new RegExp(`'${name}' parameter must not be empty`),
        );
      });
    });

    describe('odd values', () => {
      it('refuses a resource with a broken percent-encoding', async () => {
        expectFieldError(
          await poll('after=0&resource=urn:altinn:resource:%zz'),
          'events:invalidQuery',
          'resource',
        );
      });

      it.each(['%zz', '%FF%FE', '%E0%A4'])('answers a subject of %s without a 5xx', async (subject) => {
        const response = await poll(`after=0&${filter}&subject=${subject}`);
        expect([200, 400], response.body).toContain(response.statusCode);
        if (response.statusCode === 200) expect(response.json()).toEqual([]);
      });

      it('ignores parameters it does not know, including __proto__ and constructor', async () => {
        const response = await poll(`after=0&${filter}&foo=1&__proto__=x&constructor=y&__proto__[after]=z`);
        expect(response.statusCode, response.body).toBe(200);
        expect(response.json()).toEqual(logged);
        expect(({} as Record<string, unknown>).after).toBeUndefined();
      });

      // U+0000 and other control characters cannot be in any stored attribute, and PostgreSQL cannot
      // compare text holding U+0000: they are refused with 400 on both engines.
      it('answers U+0000 in any value without a 5xx', async () => {
        for (const [query, headers] of [
          [`after=%00&${filter}`, {}],
          ['after=0&source=a%00b', {}],
          [`after=0&${filter}&subject=%00`, {}],
          [`after=0&${filter}&type=%00`, {}],
          [`after=0&${filter}`, { 'altinn-alternativesubject': 'a\u0000b' }],
        ] as const) {
          const response = await t.app.inject({
            method: 'GET',
            url: `${eventsPath}?${query}`,
            headers: { ...t.auth, ...headers },
          });
          expect(response.statusCode, `${query} -> ${response.body}`).toBeLessThan(500);
        }
      });
    });

    describe("Altinn's clients' habits", () => {
      it('serves a trailing slash', async () => {
        const response = await poll(`after=0&${filter}`, {}, `${eventsPath}/`);
        expect(response.statusCode, response.body).toBe(200);
        expect(response.json()).toEqual(logged);
      });

      it('serves doubled slashes', async () => {
        const response = await poll(`after=0&${filter}`, {}, '//events/api/v1//events');
        expect(response.statusCode, response.body).toBe(200);
        expect(response.json()).toEqual(logged);
      });

      it.each([
        ['no body', undefined],
        ['an empty body', ''],
      ])('serves a GET with Content-Type: application/json and %s', async (_what, payload) => {
        for (const type of ['application/json', 'application/json; charset=utf-8']) {
          const response = await http.inject({
            method: 'GET',
            url: `${eventsPath}?after=0&${filter}`,
            headers: { ...t.auth, 'content-type': type },
            ...(payload === undefined ? {} : { payload }),
          });
          expect(response.statusCode, response.body).toBe(200);
          expect(response.json()).toEqual(logged);
        }
      });

      it("serves unencoded ':' and '/' in query values, and answers with a correctly encoded next link", async () => {
        const response = await poll(`after=0&source=${source}&resource=${resource}&size=2`);
        expect(response.statusCode, response.body).toBe(200);
        expect(response.json()).toEqual(logged.slice(0, 2));
        const next = String(response.headers.next);
        expect(next).toContain(`source=${encodeURIComponent(source)}`);
        expect(response.headers.link).toBe(`<${next}>; rel="next"`);
        const following = await http.inject({
          method: 'GET',
          url: next.replace(/^https:\/\/[^/]+/, ''),
          headers: t.auth,
        });
        expect(following.statusCode, following.body).toBe(200);
        expect(following.json()).toEqual(logged.slice(2));
        expect(following.headers.next).toEqual(expect.any(String));
      });
    });

    it('still serves after all of the above, and still holds every event it acknowledged', async () => {
      await expectStillServing(t.app, t.auth);
      const response = await poll(`after=0&${filter}`);
      expect(response.json()).toEqual(logged);
    });
  });
});
