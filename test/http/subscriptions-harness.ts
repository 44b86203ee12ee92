import type { LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { Engine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { recordingInject } from './harness.js';

export const subscriptionsPath = '/events/api/v1/subscriptions';
/** The resource `sampleEvent()` carries. */
export const resource = 'urn:altinn:resource:dodsbo.domstoladmin.api';

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A caller of its own (`/org/<name>`), so a test can count what that caller owns. */
export async function callerNamed(org: string) {
  return bearer(await testToken({ claims: { org } }));
}

/**
 * A Herald and a loopback receiver for a suite of subscription tests, with the requests they all make. Every
 * test is checked afterwards: no request may have been answered with a 5xx.
 */
export interface SubscriptionsApi {
  t: TestApp;
  http: ReturnType<typeof recordingInject>;
  receiver: Receiver;
  freshEndpoint(): string;
  create(body: unknown, auth?: { authorization: string }, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  created(body: unknown, auth?: { authorization: string }): Promise<{ id: number; secret: string } & Record<string, unknown>>;
  listAll(auth: { authorization: string }): Promise<Record<string, unknown>[]>;
}

export function subscriptionsApi(engine: Engine): SubscriptionsApi {
  const api: SubscriptionsApi = {
    t: undefined as unknown as TestApp,
    http: undefined as unknown as ReturnType<typeof recordingInject>,
    receiver: undefined as unknown as Receiver,
    /** An endpoint no other test uses, so each request names a subscription of its own. */
    freshEndpoint: () => `${api.receiver.url}/${crypto.randomUUID()}`,
    create(body, auth = api.t.auth, headers = {}) {
      return api.http.inject({ method: 'POST', url: subscriptionsPath, headers: { ...auth, ...headers }, payload: body as object });
    },
    async created(body, auth = api.t.auth) {
      const response = await api.create(body, auth);
      expect(response.statusCode, response.body).toBe(201);
      return response.json();
    },
    async listAll(auth) {
      const response = await api.http.inject({ method: 'GET', url: `${subscriptionsPath}?size=1000`, headers: auth });
      expect(response.statusCode, response.body).toBe(200);
      return response.json().subscriptions;
    },
  };
  beforeAll(async () => {
    api.t = await createTestApp(engine);
    api.http = recordingInject(api.t.app);
    api.receiver = await startReceiver();
  });
  afterAll(async () => {
    await api.t?.close();
    await api.receiver?.close();
  });
  afterEach(() => {
    expect(api.http.takeServerErrors(), 'no request may be answered with a 5xx').toEqual([]);
  });
  return api;
}
