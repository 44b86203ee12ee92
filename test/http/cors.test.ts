import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../support/engines.js';
import { createTestApp, defaultLimits, sampleEvent, type TestApp } from '../support/test-app.js';

const eventsPath = '/events/api/v1/events';
const allowed = 'https://app.example.com';

/** What a browser sends before a binary-mode publish with a token: a preflight naming the method and headers. */
function preflight(origin: string) {
  return {
    method: 'OPTIONS' as const,
    url: eventsPath,
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, ce-specversion, ce-id, ce-source, ce-type, ce-resource',
    },
  };
}

describe('CORS for HERALD_CORS_ORIGINS', () => {
  let herald: TestApp;
  beforeAll(async () => {
    herald = await createTestApp(engines[0]!, defaultLimits, { corsOrigins: [allowed, 'http://localhost:3000'] });
  });
  afterAll(() => herald.close());

  it('answers a listed origin with its own origin and the headers a client must read', async () => {
    const answer = await herald.app.inject({
      url: `${eventsPath}?after=0&resource=urn:altinn:resource:dodsbo.domstoladmin.api`,
      headers: { ...herald.auth, origin: allowed },
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBe(allowed);
    expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
    const exposed = String(answer.headers['access-control-expose-headers']).split(', ');
    expect(exposed).toEqual(expect.arrayContaining(['location', 'retry-after', 'link', 'next', 'x-request-id']));
    expect(answer.headers.vary).toMatch(/Origin/);
  });

  it('also on errors, so a page can read the problem (a 401 without a token)', async () => {
    const answer = await herald.app.inject({ url: `${eventsPath}?after=0`, headers: { origin: 'http://localhost:3000' } });
    expect(answer.statusCode).toBe(401);
    expect(answer.headers['access-control-allow-origin']).toBe('http://localhost:3000');
  });

  it('gives another origin no CORS headers at all', async () => {
    const answer = await herald.app.inject({
      url: `${eventsPath}?after=0&resource=urn:altinn:resource:dodsbo.domstoladmin.api`,
      headers: { ...herald.auth, origin: 'https://evil.example' },
    });
    expect(answer.statusCode).toBe(200);
    expect(Object.keys(answer.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
    const refused = await herald.app.inject(preflight('https://evil.example'));
    expect(refused.statusCode).toBe(405);
    expect(Object.keys(refused.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });

  it('answers a preflight 204 with the methods, Authorization, Content-Type and the ce- headers of binary mode', async () => {
    const answer = await herald.app.inject(preflight(allowed));
    expect(answer.statusCode).toBe(204);
    expect(answer.body).toBe('');
    expect(answer.headers['access-control-allow-origin']).toBe(allowed);
    expect(String(answer.headers['access-control-allow-methods']).split(', ')).toEqual(
      expect.arrayContaining(['GET', 'POST', 'DELETE']),
    );
    const headers = String(answer.headers['access-control-allow-headers']).split(', ');
    expect(headers).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'ce-specversion', 'ce-id', 'ce-source', 'ce-type', 'ce-resource']),
    );
    expect(Number(answer.headers['access-control-max-age'])).toBeGreaterThan(0);
  });

  it('lets the publish that follows a preflight through', async () => {
    const answer = await herald.app.inject({
      method: 'POST',
      url: eventsPath,
      headers: { ...herald.auth, origin: allowed, 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify(sampleEvent()),
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBe(allowed);
  });
});

describe('CORS by default', () => {
  let herald: TestApp;
  beforeAll(async () => {
    herald = await createTestApp(engines[0]!);
  });
  afterAll(() => herald.close());

  it('sends no CORS headers, and a preflight is a 405 like any OPTIONS', async () => {
    const answer = await herald.app.inject({ url: '/health', headers: { origin: allowed } });
    expect(Object.keys(answer.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
    const refused = await herald.app.inject(preflight(allowed));
    expect(refused.statusCode).toBe(405);
    expect(refused.headers.allow).toBe('GET, HEAD, POST');
    expect(Object.keys(refused.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });
});
