import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nonPublicEndpointReason } from '../../src/delivery/endpoint-guard.js';
import { describeEachEngine, type Engine } from '../support/engines.js';
import { createTestApp, defaultLimits, type TestApp } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { expectFieldError, expectProblem, recordingInject } from './harness.js';

const subscriptionsPath = '/events/api/v1/subscriptions';
const resource = 'urn:altinn:resource:dodsbo.domstoladmin.api';
/** Altinn's messages, which clients match on. */
const altinn = {
  invalidEndpoint: 'Missing or invalid endpoint to push events towards',
  invalidSourceFilter: 'SourceFilter must be an absolute URL with the https scheme.',
  invalidResourceFilter: 'Resource filter must be a valid urn',
  missingFilter: 'Resource filter is required.',
};

/**
 * A Herald on its own database for one suite, with a caller of its own, whose list must stay empty: nothing a
 * refused request sent may have been created.
 */
function refusingApp(engine: Engine, allowPrivateEndpoints: boolean) {
  const state = {} as { t: TestApp; http: ReturnType<typeof recordingInject>; auth: { authorization: string } };
  beforeAll(async () => {
    state.t = await createTestApp(engine, defaultLimits, { allowPrivateEndpoints });
    state.http = recordingInject(state.t.app);
    state.auth = { authorization: `Bearer ${await testToken({ claims: { org: 'refused' } })}` };
  });
  afterAll(async () => {
    const listed = await state.t.app.inject({ method: 'GET', url: subscriptionsPath, headers: state.auth });
    expect(listed.json(), 'a refused request must create nothing').toEqual({ count: 0, subscriptions: [] });
    await state.t?.close();
  });
  afterEach(() => {
    expect(state.http.takeServerErrors(), 'no request may be answered with a 5xx').toEqual([]);
  });
  return {
    post(payload: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) {
      return state.http.inject({
        method: 'POST',
        url: subscriptionsPath,
        headers: { ...state.auth, ...headers },
        ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
      });
    },
  };
}

describeEachEngine('POST /subscriptions with bad input on $name', (engine) => {
  describe('with private endpoints allowed (development)', () => {
    const { post } = refusingApp(engine, true);
    const endpoint = 'http://127.0.0.1:9/hook';

    describe('the endpoint', () => {
      // A missing or null endpoint is no error: it makes a pull subscription (test/http/pull*.test.ts).
      it.each([
        ['relative', { endpoint: '/hook', resourceFilter: resource }],
        ['without a scheme', { endpoint: 'webhook.site/hook', resourceFilter: resource }],
        ['not a URL', { endpoint: 'https://', resourceFilter: resource }],
        ['of another scheme', { endpoint: 'ftp://example.com/hook', resourceFilter: resource }],
        ['a javascript: URL', { endpoint: 'javascript:alert(1)', resourceFilter: resource }],
        ['carrying credentials', { endpoint: 'https://user:secret@example.com/hook', resourceFilter: resource }],
      ])("refuses an endpoint that is %s with Altinn's message", async (_what, body) => {
        const problem = expectFieldError(await post(body), 'events:invalidRequest', 'endPoint', altinn.invalidEndpoint);
        expect(problem.detail).toBe(altinn.invalidEndpoint);
      });

      it.each(['', '   '])("refuses the empty endpoint %j with Altinn's message", async (value) => {
        const problem = expectFieldError(
          await post({ endpoint: value, resourceFilter: resource }),
          'events:invalidRequest',
          'endPoint',
          altinn.invalidEndpoint,
        );
        expect(problem.detail).toBe(altinn.invalidEndpoint);
      });

      it.each([42, true, { url: 'https://example.com/hook' }, ['https://example.com/hook']])(
        'refuses the endpoint %j, which is not a string',
        async (value) => {
          expectFieldError(await post({ endpoint: value, resourceFilter: resource }), 'events:invalidRequest', 'endPoint');
        },
      );
    });

    describe('the filters', () => {
      it.each([
        'not a url',
        'digdir.apps.altinn.no/digdir/demoapp',
        '/digdir/demoapp/%',
        'ftp://example.com/x',
        'urn:altinn:x',
        // White space the URL parser would drop, though the filter is matched as written.
        ' https://digdir.apps.altinn.no/digdir/demoapp',
        'https://digdir.apps.altinn.no/digdir/demo\tapp',
      ])(
        "refuses the sourceFilter %j with Altinn's message",
        async (sourceFilter) => {
          const problem = expectFieldError(
            await post({ endpoint, sourceFilter }),
            'events:invalidRequest',
            'sourceFilter',
            altinn.invalidSourceFilter,
          );
          expect(problem.detail).toBe(altinn.invalidSourceFilter);
        },
      );

      // HERALD_ALLOW_PRIVATE_ENDPOINTS is about webhooks (DESIGN §3); a sourceFilter is https whatever it says.
      it('refuses an http sourceFilter even where private endpoints are allowed', async () => {
        expectFieldError(
          await post({ endpoint, sourceFilter: 'http://digdir.apps.altinn.no/digdir/demoapp/%' }),
          'events:invalidRequest',
          'sourceFilter',
          altinn.invalidSourceFilter,
        );
      });

      it.each(['not-a-urn', 'urn:', 'urn:altinn', 'URN:ALTINN:RESOURCE:X', 'urn:altinn:resource:has space', 'https://x.test/r'])(
        "refuses the resourceFilter %j with Altinn's message",
        async (resourceFilter) => {
          const problem = expectFieldError(
            await post({ endpoint, resourceFilter }),
            'events:invalidRequest',
            'resourceFilter',
            altinn.invalidResourceFilter,
          );
          expect(problem.detail).toBe(altinn.invalidResourceFilter);
        },
      );

      it.each([
        ['no filter at all', { endpoint }],
        ['only a subjectFilter', { endpoint, subjectFilter: '/party/1' }],
        ['only a typeFilter and an alternativeSubjectFilter', { endpoint, typeFilter: 't', alternativeSubjectFilter: '/person/1' }],
        ['null filters', { endpoint, resourceFilter: null, sourceFilter: null }],
      ])("refuses a request with %s: 'Resource filter is required.'", async (_what, body) => {
        const problem = expectFieldError(await post(body), 'events:invalidRequest', 'resourceFilter', altinn.missingFilter);
        expect(problem.detail).toBe(altinn.missingFilter);
      });

      it.each(['sourceFilter', 'resourceFilter', 'subjectFilter', 'alternativeSubjectFilter', 'typeFilter'])(
        'refuses an empty %s (Altinn stores it and it never matches)',
        async (field) => {
          for (const empty of ['', ' ', '\t\n']) {
            const body = { endpoint, resourceFilter: resource, sourceFilter: 'https://x.test/app', [field]: empty };
            expectFieldError(await post(body), 'events:invalidRequest', field, /must not be empty/);
          }
        },
      );

      it('names every field at fault at once', async () => {
        const problem = expectProblem(
          await post({ endpoint: 'nope', sourceFilter: 'nope', resourceFilter: 'nope', typeFilter: '' }),
          400,
          'events:invalidRequest',
        );
        expect(Object.keys(problem.errors ?? {}).sort()).toEqual(['endPoint', 'resourceFilter', 'sourceFilter', 'typeFilter']);
      });

      // PostgreSQL text cannot hold U+0000 (this was a 500 there), and a filter with control characters never
      // matches: events holding them are refused.
      it.each(['endPoint', 'sourceFilter', 'resourceFilter', 'subjectFilter', 'alternativeSubjectFilter', 'typeFilter'])(
        'refuses a NUL or another control character in %s, naming it',
        async (field) => {
          for (const control of ['\u0000', '\u001f', '\u007f']) {
            const value =
              field === 'endPoint' ? `${endpoint}/a${control}b`
              : field === 'sourceFilter' ? `https://x.test/a${control}b`
              : field === 'resourceFilter' ? `${resource}${control}`
              : `a${control}b`;
            const body = { endpoint: `${endpoint}/control`, resourceFilter: resource, [field === 'endPoint' ? 'endpoint' : field]: value };
            expectFieldError(await post(body), 'events:invalidRequest', field);
          }
        },
      );
    });

    describe('the ordering (docs/ordering.md)', () => {
      it.each([['Subject'], ['fifo'], [''], [1], [true], [['subject']], [{ by: 'subject' }]])(
        'refuses an unknown ordering %j, naming the values it takes',
        async (ordering) => {
          const body = { endpoint, resourceFilter: resource, ordering };
          expectFieldError(await post(body), 'events:invalidRequest', 'ordering', "'ordering' must be one of 'none', 'subject', 'partitionkey'.");
        },
      );

      it.each([['stop'], ['Block'], [false]])('refuses an unknown onDeadLetter %j', async (onDeadLetter) => {
        const body = { endpoint, resourceFilter: resource, ordering: 'subject', onDeadLetter };
        expectFieldError(await post(body), 'events:invalidRequest', 'onDeadLetter', "'onDeadLetter' must be one of 'skip', 'block'.");
      });

      it("refuses 'onDeadLetter': 'block' on an unordered subscription: it has no key to stop", async () => {
        const body = { endpoint, resourceFilter: resource, onDeadLetter: 'block' };
        expectFieldError(await post(body), 'events:invalidRequest', 'onDeadLetter', /needs an ordered subscription/);
      });

      it('refuses ordering on a pull subscription, whose queue is read in log order already', async () => {
        expectFieldError(await post({ resourceFilter: resource, ordering: 'partitionkey' }), 'events:invalidRequest', 'ordering', /push subscriptions/);
      });
    });

    describe('the body', () => {
      it.each([
        ['an array', '[]'],
        ['an array holding a request', JSON.stringify([{ endpoint, resourceFilter: resource }])],
        ['a string', '"https://example.com/hook"'],
        ['a number', '42'],
        ['a boolean', 'true'],
        ['null', 'null'],
      ])('refuses %s as the body, naming the body', async (_what, text) => {
        expectFieldError(await post(text), 'events:invalidRequest', 'body', 'A subscription request must be a JSON object.');
      });

      it('refuses an empty body, naming the body', async () => {
        expectFieldError(await post(undefined), 'events:invalidRequest', 'body');
      });

      it.each([
        ['cut short', '{"endpoint": "https://example.com/hook", "resourceFilter": '],
        // The 400 example on Altinn's subscription page.
        ['with a trailing comma', `{\n  "sourceFilter": "https://digdir.apps.altinn.no/digdir/demoapp/%",\n  "endpoint": "${endpoint}",\n}`],
        ['not JSON at all', 'endpoint=https://example.com/hook'],
        ['with a byte order mark only', '\ufeff'],
      ])('refuses malformed JSON (%s) with a problem naming the body', async (_what, text) => {
        const problem = expectFieldError(await post(text), 'events:invalidRequest', 'body');
        expect(problem.detail).toMatch(/JSON/);
      });

      it.each([
        ['resourceFilter', [resource]],
        ['sourceFilter', true],
        ['subjectFilter', 1],
        ['alternativeSubjectFilter', {}],
        ['typeFilter', ['a', 'b']],
      ])('refuses %s of the wrong type (%j)', async (field, value) => {
        const body = { endpoint, resourceFilter: resource, [field]: value };
        expectFieldError(await post(body), 'events:invalidRequest', field, `'${field}' must be a string.`);
      });

      it.each(['text/plain', 'application/xml', 'application/x-www-form-urlencoded'])(
        'refuses a body sent as %s with 415',
        async (type) => {
          expectProblem(await post({ endpoint, resourceFilter: resource }, { 'content-type': type }), 415, 'events:unsupportedMediaType');
        },
      );

      it('refuses a body over the request limit with 413', async () => {
        const body = { endpoint, resourceFilter: resource, padding: 'x'.repeat(defaultLimits.maxRequestBytes) };
        expectProblem(await post(body), 413, 'events:payloadTooLarge');
      });
    });
  });

  describe('with private endpoints refused (production)', () => {
    const { post } = refusingApp(engine, false);

    it.each(['http://example.com/hook', 'http://93.184.215.14/hook'])(
      "refuses the plain http endpoint %s with Altinn's message",
      async (endpoint) => {
        const problem = expectFieldError(
          await post({ endpoint, resourceFilter: resource }),
          'events:invalidRequest',
          'endPoint',
          altinn.invalidEndpoint,
        );
        expect(problem.detail).toBe(altinn.invalidEndpoint);
      },
    );

    it.each([
      ['https://127.0.0.1/x', '127.0.0.1'],
      ['https://[::1]/x', '::1'],
      ['https://169.254.169.254/x', '169.254.169.254'],
      ['https://localhost/x', undefined],
      ['https://10.1.2.3/x', '10.1.2.3'],
      ['https://172.16.0.1/x', '172.16.0.1'],
      ['https://192.168.1.1/x', '192.168.1.1'],
      ['https://0.0.0.0/x', '0.0.0.0'],
      ['https://[fe80::1]/x', 'fe80::1'],
      ['https://[fd00::1]/x', 'fd00::1'],
      // Spellings the URL parser turns into 127.0.0.1.
      ['https://2130706433/x', '127.0.0.1'],
      ['https://0x7f.1/x', '127.0.0.1'],
    ])('refuses %s, which is not a public address', async (endpoint, address) => {
      const problem = expectFieldError(
        await post({ endpoint, resourceFilter: resource }),
        'events:invalidRequest',
        'endPoint',
        altinn.invalidEndpoint,
      );
      expect(problem.detail).toBe(altinn.invalidEndpoint);
      // The refusal names no address: it must not tell what a host name resolves to (a DNS oracle).
      expect(problem.errors?.endPoint).toContain(nonPublicEndpointReason);
      if (address !== undefined && !endpoint.includes(address)) expect(JSON.stringify(problem)).not.toContain(address);
    });

    it.each([
      ['https://[::ffff:127.0.0.1]/x', '::ffff:7f00:1'],
      ['https://[::ffff:a9fe:a9fe]/x', '::ffff:a9fe:a9fe'],
      ['https://[0:0:0:0:0:0:0:1]/x', '::1'],
    ])('refuses %s, an IPv6 spelling of a non-public address', async (endpoint, address) => {
      const problem = expectFieldError(
        await post({ endpoint, resourceFilter: resource }),
        'events:invalidRequest',
        'endPoint',
        altinn.invalidEndpoint,
      );
      expect(problem.errors?.endPoint).toContain(nonPublicEndpointReason);
      expect(JSON.stringify(problem)).not.toContain(address);
    });

    it("refuses an http sourceFilter with Altinn's message", async () => {
      const problem = expectFieldError(
        await post({ endpoint: 'https://93.184.215.14/hook', sourceFilter: 'http://digdir.apps.altinn.no/digdir/demoapp/%' }),
        'events:invalidRequest',
        'sourceFilter',
        altinn.invalidSourceFilter,
      );
      expect(problem.detail).toBe(altinn.invalidSourceFilter);
    });

    it('accepts an https endpoint on a public address (and creates it for another caller)', async () => {
      const other = { authorization: `Bearer ${await testToken({ claims: { org: 'accepted' } })}` };
      const response = await post(
        { endpoint: 'https://93.184.215.14/hook', sourceFilter: 'https://digdir.apps.altinn.no/digdir/demoapp/%' },
        { 'content-type': 'application/json', ...other },
      );
      expect(response.statusCode, response.body).toBe(201);
    });
  });
});
