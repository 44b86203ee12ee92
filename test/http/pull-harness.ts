import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { sampleEvent } from '../support/test-app.js';
import { eventsPath } from './harness.js';

export const subscriptionsPath = '/events/api/v1/subscriptions';
/** The resource the pull tests' subscriptions filter on. */
export const pullResource = 'urn:altinn:resource:herald.pull-test';

export interface Page {
  readonly checkPoint: string;
  readonly events: Record<string, unknown>[];
}

export type Inject = (options: InjectOptions) => Promise<LightMyRequestResponse>;
export type PullQuery = Record<string, string | number | undefined>;

export const idsOf = (page: Page) => page.events.map((e) => e.id as string);

/** An event for the pull tests' resource. */
export const pullEvent = (id: string, overrides: Record<string, unknown> = {}) =>
  sampleEvent({ id, resource: pullResource, ...overrides });

/** The pull API as a subscriber uses it, through one app (one Herald process) and one token. */
export function pullClient(target: FastifyInstance | Inject, auth: { authorization: string }) {
  const inject: Inject = typeof target === 'function' ? target : (options) => target.inject(options);
  const client = {
    /** Creates a pull subscription (no endPoint). @returns its id */
    async subscribe(body: Record<string, unknown> = { resourceFilter: pullResource }): Promise<number> {
      const response = await inject({ method: 'POST', url: subscriptionsPath, headers: auth, payload: body });
      expect(response.statusCode, response.body).toBe(201);
      return response.json().id;
    },
    /** Publishes events (ids or whole events) in one batch, in the given order. */
    async publish(...events: (string | Record<string, unknown>)[]): Promise<void> {
      const batch = events.map((e) => (typeof e === 'string' ? pullEvent(e) : e));
      const response = await inject({
        method: 'POST',
        url: eventsPath,
        headers: { ...auth, 'content-type': 'application/cloudevents-batch+json' },
        payload: JSON.stringify(batch),
      });
      expect(response.statusCode, response.body).toBe(200);
    },
    /** GET /subscriptions/{id}/events with the query written as given (undefined values left out). */
    read(id: number | string, query: PullQuery = {}, headers: Record<string, string> = auth) {
      const search = Object.entries(query)
        .filter(([, value]) => value !== undefined)
        .map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`)
        .join('&');
      return inject({ method: 'GET', url: `${subscriptionsPath}/${id}/events${search ? `?${search}` : ''}`, headers });
    },
    /** A read that must succeed. */
    async page(id: number, query: PullQuery = {}): Promise<Page> {
      const response = await client.read(id, query);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      const page = response.json() as Page;
      expect(page.checkPoint).toEqual(expect.any(String));
      return page;
    },
    async subscription(id: number): Promise<Record<string, unknown>> {
      const response = await inject({ method: 'GET', url: `${subscriptionsPath}/${id}`, headers: auth });
      expect(response.statusCode, response.body).toBe(200);
      return response.json();
    },
    /** The subscription's queue rows as the deliveries listing shows them. */
    async deliveries(id: number): Promise<Record<string, unknown>[]> {
      const response = await inject({ method: 'GET', url: `${subscriptionsPath}/${id}/deliveries?size=1000`, headers: auth });
      expect(response.statusCode, response.body).toBe(200);
      return response.json().deliveries;
    },
  };
  return client;
}
