import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.js';
import { createTokenVerifier } from '../../src/http/auth/token-verifier.js';
import { SubscriptionRegistry } from '../../src/delivery/subscription-registry.js';
import { requestIdOf } from '../../src/observability/request-id.js';
import { engines, type TestDatabase } from '../support/engines.js';
import { defaultLimits, sampleEvent } from '../support/test-app.js';
import { testSecret, testToken } from '../support/tokens.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('requestIdOf', () => {
  it('keeps a short id of letters, digits and . _ : -', () => {
    const id = '1-67891233:abcdef_012.345-x';
    expect(requestIdOf({ headers: { 'x-request-id': id } })).toBe(id);
    expect(requestIdOf({ headers: { 'x-request-id': 'a'.repeat(128) } })).toBe('a'.repeat(128));
  });

  it('replaces a missing, empty, long or unsafe id with a fresh UUID', () => {
    for (const given of [undefined, '', 'a'.repeat(129), 'x'.repeat(10 * 1024), 'a\nb', 'a\r\nSet-Cookie: x', 'a b', '"quoted"', '<script>', 'æøå']) {
      const id = requestIdOf({ headers: given === undefined ? {} : { 'x-request-id': given } });
      expect(id, JSON.stringify(given)).toMatch(uuid);
    }
    // Two of them are never the same.
    expect(requestIdOf({ headers: {} })).not.toBe(requestIdOf({ headers: {} }));
  });
});

// The request id is HTTP plumbing; one engine is enough to exercise it.
describe('X-Request-Id and traceId', () => {
  const lines: string[] = [];
  let db: TestDatabase;
  let app: FastifyInstance;
  let registry: SubscriptionRegistry;
  let authorization: string;

  beforeAll(async () => {
    db = await (engines[0] as (typeof engines)[number]).create();
    const store = await db.open();
    registry = new SubscriptionRegistry(store);
    await registry.start();
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    app = await buildApp({
      store,
      verifier: createTokenVerifier({ key: { kind: 'secret', secret: testSecret } }),
      limits: defaultLimits,
      delivery: { registry, wake: () => {}, allowPrivateEndpoints: true },
      logger: { level: 'info', stream },
    });
    authorization = `Bearer ${await testToken()}`;
  });
  afterAll(async () => {
    await app?.close();
    registry?.stop();
    await db?.destroy();
  });

  it("a problem's traceId is the X-Request-Id Herald answers with, generated when none was sent", async () => {
    const response = await app.inject({ method: 'GET', url: '/events/api/v1/nowhere' });
    expect(response.statusCode).toBe(404);
    const header = response.headers['x-request-id'];
    expect(header).toMatch(uuid);
    expect(response.json().traceId).toBe(header);
  });

  it('a safe X-Request-Id from the caller is kept: echoed, the traceId, and in the log lines of the request', async () => {
    const id = 'gateway-7f3a:42';
    const response = await app.inject({
      method: 'POST',
      url: '/events/api/v1/events',
      headers: { authorization, 'content-type': 'application/cloudevents+json', 'x-request-id': id },
      payload: sampleEvent({ resource: 'not-a-urn' }),
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['x-request-id']).toBe(id);
    expect(response.json().traceId).toBe(id);
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.reqId === id);
    expect(logged.map((entry) => entry.msg)).toEqual(['incoming request', 'request completed']);
  });

  it('answers that succeed carry the request id too', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/events/api/v1/events',
      headers: { authorization, 'content-type': 'application/cloudevents+json', 'x-request-id': 'publish-1' },
      payload: sampleEvent(),
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-request-id']).toBe('publish-1');
  });

  it('problems before the route runs (no token) carry the request id', async () => {
    const response = await app.inject({ method: 'GET', url: '/events/api/v1/subscriptions', headers: { 'x-request-id': 'no-token' } });
    expect(response.statusCode).toBe(401);
    expect(response.headers['x-request-id']).toBe('no-token');
    expect(response.json().traceId).toBe('no-token');
  });

  it.each([
    ['newlines', 'abc\nInjected: yes'],
    ['a carriage return and a fake log field', 'abc\r\n{"level":"fatal"}'],
    ['10 KiB', 'x'.repeat(10 * 1024)],
    ['spaces and quotes', 'a "quoted" id'],
  ])('an X-Request-Id with %s is replaced, in the header, the traceId and the logs', async (_what, malicious) => {
    lines.length = 0;
    const response = await app.inject({ method: 'GET', url: '/events/api/v1/nowhere', headers: { 'x-request-id': malicious } });
    expect(response.statusCode).toBe(404);
    const header = response.headers['x-request-id'];
    expect(header).toMatch(uuid);
    expect(response.json().traceId).toBe(header);
    expect(lines.join('')).not.toContain(malicious);
    for (const line of lines) expect((JSON.parse(line) as { reqId: string }).reqId).toBe(header);
  });
});
