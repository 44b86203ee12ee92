import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { HeraldUnderTest } from '../support/test-app.js';
import { sampleEvent } from '../support/test-app.js';
import { eventsPath } from './harness.js';

export const subscriptionsPath = '/events/api/v1/subscriptions';
/** The resource the replay tests' subscriptions filter on; `otherResource` events never match them. */
export const replayResource = 'urn:altinn:resource:herald.replay-test';
export const otherResource = 'urn:altinn:resource:herald.replay-other';

/** A replay as the API shows it. */
export interface ReplayBody {
  readonly id: number;
  readonly subscriptionId: number;
  readonly status: string;
  readonly events: number;
  readonly enqueued: number;
  readonly range: { readonly after: string; readonly through: string };
  readonly position: string;
  readonly [field: string]: unknown;
}

/** An event for the replay tests' resource. */
export const replayEvent = (id: string, overrides: Record<string, unknown> = {}) =>
  sampleEvent({ id, resource: replayResource, ...overrides });

/** The replay API as a subscriber uses it, through one Herald process and one token. */
export function replayClient(herald: HeraldUnderTest, auth: { authorization: string }) {
  const inject = (options: InjectOptions) => herald.app.inject(options);
  const client = {
    async subscribe(body: Record<string, unknown>): Promise<LightMyRequestResponse> {
      return inject({ method: 'POST', url: subscriptionsPath, headers: auth, payload: body });
    },
    /** Publishes events (ids or whole events) in one batch, in the given order. */
    async publish(...events: (string | Record<string, unknown>)[]): Promise<void> {
      const batch = events.map((e) => (typeof e === 'string' ? replayEvent(e) : e));
      const response = await inject({
        method: 'POST',
        url: eventsPath,
        headers: { ...auth, 'content-type': 'application/cloudevents-batch+json' },
        payload: JSON.stringify(batch),
      });
      expect(response.statusCode, response.body).toBe(200);
    },
    replay(subscriptionId: number | string, body: unknown, headers = auth) {
      return inject({
        method: 'POST',
        url: `${subscriptionsPath}/${subscriptionId}/replay`,
        headers: { ...headers, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
    },
    /** A dry run that must succeed: the count. */
    async count(subscriptionId: number, body: Record<string, unknown>): Promise<number> {
      const response = await client.replay(subscriptionId, { ...body, dryRun: true });
      expect(response.statusCode, response.body).toBe(200);
      return (response.json() as { events: number }).events;
    },
    /** A replay that must be accepted. */
    async start(subscriptionId: number, body: Record<string, unknown>): Promise<ReplayBody> {
      const response = await client.replay(subscriptionId, body);
      expect(response.statusCode, response.body).toBe(202);
      const replay = response.json() as ReplayBody;
      expect(response.headers.location).toBe(`${subscriptionsPath}/${subscriptionId}/replays/${replay.id}`);
      return replay;
    },
    get(subscriptionId: number, replayId: number | string, headers = auth) {
      return inject({ method: 'GET', url: `${subscriptionsPath}/${subscriptionId}/replays/${replayId}`, headers });
    },
    cancel(subscriptionId: number, replayId: number | string, headers = auth) {
      return inject({ method: 'DELETE', url: `${subscriptionsPath}/${subscriptionId}/replays/${replayId}`, headers });
    },
    async list(subscriptionId: number): Promise<ReplayBody[]> {
      const response = await inject({ method: 'GET', url: `${subscriptionsPath}/${subscriptionId}/replays`, headers: auth });
      expect(response.statusCode, response.body).toBe(200);
      return (response.json() as { replays: ReplayBody[] }).replays;
    },
    async deliveries(subscriptionId: number): Promise<Record<string, unknown>[]> {
      const response = await inject({ method: 'GET', url: `${subscriptionsPath}/${subscriptionId}/deliveries?size=1000`, headers: auth });
      expect(response.statusCode, response.body).toBe(200);
      return (response.json() as { deliveries: Record<string, unknown>[] }).deliveries;
    },
  };
  return client;
}

/** Runs the replay loop's steps until no replay moves on. @returns how many steps moved one */
export async function drainReplays(herald: HeraldUnderTest): Promise<number> {
  let steps = 0;
  while ((await herald.replayer.runOnce()) > 0) steps++;
  return steps;
}

/** Waits until the wall clock has moved past now, so that events stored before and after differ in time. */
export async function instantBetween(): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 15));
  const at = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 15));
  return at;
}
