import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { scopes } from '../../src/domain/identity.js';
import { createTokenVerifier } from '../../src/http/auth/token-verifier.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { assembleHerald, createTestApp, type HeraldUnderTest, sampleEvent, type TestApp } from '../support/test-app.js';
import { testSecret, testToken } from '../support/tokens.js';
import { eventsPath, expectProblem, expectStillServing, recordingInject } from './harness.js';

const structured = 'application/cloudevents+json';
const pollQuery = `after=0&resource=${encodeURIComponent('urn:altinn:resource:dodsbo.domstoladmin.api')}`;
const MiB = 1024 * 1024;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describeEachEngine('Authentication and scopes on $name', (engine) => {
  let t: TestApp;
  let http: ReturnType<typeof recordingInject>;

  beforeAll(async () => {
    t = await createTestApp(engine);
    http = recordingInject(t.app);
  });
  afterAll(async () => t?.close());
  afterEach(() => {
    expect(http.takeServerErrors(), 'no request may be answered with a 5xx').toEqual([]);
  });

  function publish(headers: Record<string, string>, payload: string = JSON.stringify(sampleEvent())) {
    return http.inject({
      method: 'POST',
      url: eventsPath,
      headers: { 'content-type': structured, ...headers },
      payload,
    });
  }

  function poll(headers: Record<string, string>) {
    return http.inject({ method: 'GET', url: `${eventsPath}?${pollQuery}`, headers });
  }

  const routes = [
    ['POST /events', publish],
    ['GET /events', poll],
  ] as const;

  describe('401 without a valid token', () => {
    it.each(routes)(
      'answers %s without an Authorization header with 401 and WWW-Authenticate',
      async (_route, send) => {
        const response = await send({});
        expectProblem(response, 401, 'events:unauthenticated');
        expect(response.headers['www-authenticate']).toMatch(/^Bearer\b/);
      },
    );

    it.each([
      ['a Basic scheme', () => 'Basic dHRkOnNlY3JldA=='],
      ['another scheme with a valid token', () => `Token ${t.token}`],
      ['Bearer without a token', () => 'Bearer'],
      ['Bearer with two tokens', () => `Bearer ${t.token} ${t.token}`],
      ['an empty header', () => ''],
    ])('answers 401 to %s', async (_what, header) => {
      for (const [, send] of routes) {
        const response = await send({ authorization: header() });
        expectProblem(response, 401, 'events:unauthenticated');
        expect(response.headers['www-authenticate']).toMatch(/^Bearer\b/);
      }
    });

    it.each(['not-a-jwt', 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9.e30', '....'])(
      'answers 401 to the malformed token %j',
      async (token) => {
        for (const [, send] of routes) {
          const response = await send(bearer(token));
          const body = expectProblem(response, 401, 'events:unauthenticated');
          expect(body.detail).toBe('The token is malformed.');
          expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
        }
      },
    );

    it('answers 401 to a token signed with another secret', async () => {
      const token = await testToken({ secret: 'another-secret-that-is-also-long-enough-for-hs256' });
      for (const [, send] of routes) {
        const body = expectProblem(await send(bearer(token)), 401, 'events:unauthenticated');
        expect(body.detail).toBe("The token's signature is not valid.");
      }
    });

    it('answers 401 to a token whose claims were changed after signing', async () => {
      const [header, , signature] = t.token.split('.');
      const forged = `${header}.${base64url({ org: 'evil', scope: `${scopes.publishAdmin} ${scopes.subscribe}`, exp: 4_102_444_800 })}.${signature}`;
      for (const [, send] of routes) {
        expectProblem(await send(bearer(forged)), 401, 'events:unauthenticated');
      }
    });

    it("answers 401 to an unsigned token (alg 'none')", async () => {
      const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ org: 'ttd', scope: scopes.publish, exp: 4_102_444_800 })}.`;
      for (const [, send] of routes) {
        expectProblem(await send(bearer(unsigned)), 401, 'events:unauthenticated');
      }
    });

    it('answers 401 to an expired token', async () => {
      const token = await testToken({ expiresIn: -3600 });
      for (const [, send] of routes) {
        const response = await send(bearer(token));
        const body = expectProblem(response, 401, 'events:unauthenticated');
        expect(body.detail).toBe('The token has expired.');
        expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
      }
    });

    it('answers 401 to a token that is not valid yet', async () => {
      const token = await testToken({ claims: { nbf: Math.floor(Date.now() / 1000) + 3600 } });
      for (const [, send] of routes) {
        expectProblem(await send(bearer(token)), 401, 'events:unauthenticated');
      }
    });

    it('answers 401 to a token that names no caller', async () => {
      const token = await testToken({ claims: { org: undefined } });
      for (const [, send] of routes) {
        const body = expectProblem(await send(bearer(token)), 401, 'events:unauthenticated');
        expect(body.detail).toMatch(/names no caller/);
      }
    });

    it('refuses a token once it has expired, though it was accepted (and cached) before', async () => {
      const token = await testToken({ expiresIn: 30 });
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
      try {
        expect((await poll(bearer(token))).statusCode).toBe(200);
        vi.setSystemTime(Date.now() + 120_000);
        const body = expectProblem(await poll(bearer(token)), 401, 'events:unauthenticated');
        expect(body.detail).toBe('The token has expired.');
      } finally {
        vi.useRealTimers();
      }
    });
  });

  describe('who the caller is', () => {
    it.each([
      ['sub', { org: undefined, sub: 'client-1' }],
      ['userId', { org: undefined, userId: 1337 }],
      ['orgNumber', { org: undefined, orgNumber: '991825827' }],
      ["Altinn's urn:altinn:org", { org: undefined, 'urn:altinn:org': 'ttd' }],
      [
        'a Maskinporten consumer',
        { org: undefined, consumer: { authority: 'iso6523-actorid-upis', ID: '0192:991825827' } },
      ],
    ])('accepts a token that names its caller by %s', async (_claim, claims) => {
      expect((await publish(bearer(await testToken({ claims })))).statusCode).toBe(200);
    });

    it("accepts the scheme name in any case ('bearer')", async () => {
      expect((await poll({ authorization: `bearer ${t.token}` })).statusCode).toBe(200);
    });
  });

  describe('403 without the scope', () => {
    it('refuses to publish with only the subscribe scope, naming both publish scopes', async () => {
      const token = await testToken({ scope: scopes.subscribe });
      const body = expectProblem(await publish(bearer(token)), 403, 'events:forbidden');
      expect(body.detail).toContain(`'${scopes.publish}'`);
      expect(body.detail).toContain(`'${scopes.publishAdmin}'`);
    });

    it('refuses to poll with only the publish scopes, naming the subscribe scope', async () => {
      const token = await testToken({ scope: `${scopes.publish} ${scopes.publishAdmin}` });
      const body = expectProblem(await poll(bearer(token)), 403, 'events:forbidden');
      expect(body.detail).toContain(`'${scopes.subscribe}'`);
    });

    it.each([
      ['no scope claim', { scope: undefined }],
      ['an empty scope', { scope: '' }],
      ['a scope that only contains the name', { scope: 'xaltinn:events.publish altinn:events.subscribex' }],
      ['a scope that is not a string', { scope: 42 }],
    ])('refuses both routes to a token with %s', async (_what, claims) => {
      const token = await testToken({ claims });
      for (const [, send] of routes) {
        expectProblem(await send(bearer(token)), 403, 'events:forbidden');
      }
    });

    it('lets the admin scope publish', async () => {
      const token = await testToken({ scope: scopes.publishAdmin });
      expect((await publish(bearer(token))).statusCode).toBe(200);
    });

    it('compares scopes case-insensitively', async () => {
      const token = await testToken({ scope: 'ALTINN:EVENTS.PUBLISH Altinn:Events.Subscribe' });
      expect((await publish(bearer(token))).statusCode).toBe(200);
      expect((await poll(bearer(token))).statusCode).toBe(200);
    });

    it('reads scopes given as a list', async () => {
      const token = await testToken({ claims: { scope: [scopes.publish, scopes.subscribe] } });
      expect((await publish(bearer(token))).statusCode).toBe(200);
      expect((await poll(bearer(token))).statusCode).toBe(200);
    });
  });

  describe('authentication comes before the body is read', () => {
    const huge = JSON.stringify(sampleEvent({ data: 'x'.repeat(2 * MiB) }));

    it('answers 401, not 413, to a body over the limit without a token', async () => {
      expectProblem(await publish({}, huge), 401, 'events:unauthenticated');
    });

    it('answers 401, not 413, to a body over the limit with an expired token', async () => {
      expectProblem(
        await publish(bearer(await testToken({ expiresIn: -60 })), huge),
        401,
        'events:unauthenticated',
      );
    });

    it('answers 403, not 413, to a body over the limit with a token lacking the scope', async () => {
      const token = await testToken({ scope: scopes.subscribe });
      expectProblem(await publish(bearer(token), huge), 403, 'events:forbidden');
    });

    it('answers 401, not 415, to an unsupported content type without a token', async () => {
      expectProblem(
        await publish({ 'content-type': 'application/xml' }, '<event/>'),
        401,
        'events:unauthenticated',
      );
    });

    it('answers 401, not 400, to malformed JSON without a token', async () => {
      expectProblem(await publish({}, '{not json'), 401, 'events:unauthenticated');
    });
  });

  describe('with an issuer and audience configured', () => {
    let db: TestDatabase;
    let app: FastifyInstance;
    let herald: HeraldUnderTest;
    const issuer = 'https://issuer.example';
    const audience = 'herald';

    beforeAll(async () => {
      db = await engine.create();
      herald = await assembleHerald(await db.open(), {
        verifier: createTokenVerifier({ key: { kind: 'secret', secret: testSecret }, issuer, audience }),
        limits: { maxEventBytes: 256 * 1024, maxRequestBytes: MiB },
      });
      app = herald.app;
    });
    afterAll(async () => {
      await herald?.close();
      await db?.destroy();
    });

    const pollAs = async (token: string) =>
      app.inject({ method: 'GET', url: `${eventsPath}?${pollQuery}`, headers: bearer(token) });

    it('accepts a token from that issuer for that audience', async () => {
      expect((await pollAs(await testToken({ issuer, audience }))).statusCode).toBe(200);
    });

    it.each([
      ['another issuer', { issuer: 'https://elsewhere.example', audience }, 'iss'],
      ['no issuer', { audience }, 'iss'],
      ['another audience', { issuer, audience: 'someone-else' }, 'aud'],
      ['no audience', { issuer }, 'aud'],
    ])('answers 401 to a token from %s', async (_what, options, claim) => {
      const body = expectProblem(await pollAs(await testToken(options)), 401, 'events:unauthenticated');
      expect(body.detail).toBe(`The token's '${claim}' claim is not accepted.`);
    });
  });

  it('still serves after all of the above', async () => {
    await expectStillServing(t.app, t.auth);
  });
});
