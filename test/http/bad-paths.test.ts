import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../support/engines.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

// Paths Fastify cannot decode never reach a route: this checks the framework's own answer. One engine suffices.
describe('A path that cannot be decoded', () => {
  let herald: TestApp;
  beforeAll(async () => {
    herald = await createTestApp(engines[0] as (typeof engines)[number]);
  });
  afterAll(async () => herald?.close());

  it.each([
    ['GET', '/events/api/v1/subscriptions/%ZZ'],
    ['DELETE', '/events/api/v1/subscriptions/%E0%A4'],
    ['GET', '/docs/static/%ZZ'],
    ['GET', '/events/api/v1/events/%'],
  ])('answers %s %s with a 400 problem, never a framework error body', async (method, url) => {
    const response = await herald.app.inject({
      method: method as 'GET' | 'DELETE',
      url,
      headers: { authorization: `Bearer ${herald.token}` },
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = response.json() as { code: string; traceId: string; detail: string };
    expect(body.code).toBe('events:invalidRequest');
    expect(body.traceId).toBe(response.headers['x-request-id']);
    expect(body.detail).toMatch(/path is not valid/);
  });
});
