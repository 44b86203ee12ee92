import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { scopes } from '../../src/domain/identity.js';
import { type Authorizer, type Grant, type Policy, policyAuthorizer } from '../../src/domain/policy.js';
import type { Engine } from '../support/engines.js';
import { createTestApp, sampleEvent, type TestApp } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { eventsPath, recordingInject } from './harness.js';

export const subscriptionsPath = '/events/api/v1/subscriptions';
/** The resource the authorization tests publish to and subscribe on. */
export const resource = 'urn:altinn:resource:herald.authz-a';
export const otherResource = 'urn:altinn:resource:herald.authz-b';
/** `t.auth`'s consumer. */
export const ttd = '/org/ttd';

/** An event, and what a denied caller must never see of it: its id, its source and its data. */
export interface SecretEvent {
  readonly event: Record<string, unknown>;
  readonly secrets: readonly string[];
}

/** An event whose every identifying part is unique, so a leak of any of them can be searched for. */
export function secretEvent(overrides: Record<string, unknown> = {}): SecretEvent {
  const tag = crypto.randomUUID();
  const event = sampleEvent({
    id: `secret-id-${tag}`,
    source: `https://secret-source.test/${tag}`,
    resource,
    subject: '/party/1',
    datacontenttype: 'application/json',
    data: { marker: `secret-data-${tag}` },
    ...overrides,
  });
  return { event, secrets: [String(event.id), String(event.source), `secret-data-${tag}`] };
}

/** Asserts that nothing of the events shows in the response: not its body, not any header (`next`, `link`). */
export function expectNoLeak(response: LightMyRequestResponse, ...events: SecretEvent[]): void {
  const seen = `${response.body}\n${JSON.stringify(response.headers)}`;
  for (const { secrets } of events) {
    for (const secret of secrets) expect(seen, `the response reveals ${secret}`).not.toContain(secret);
  }
}

/** Tokens for the callers the tests play. */
export async function callers() {
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  return {
    /** `/org/other`, with publish and subscribe scopes. */
    other: bearer(await testToken({ claims: { org: 'other' } })),
    /** `/org/publisher` with only the admin scope: publishes anywhere, whatever the policy. */
    admin: bearer(await testToken({ scope: scopes.publishAdmin, claims: { org: 'publisher' } })),
    /** `/organisation/991825827`, identified by its organisation number. */
    organisation: bearer(await testToken({ claims: { org: undefined, orgNumber: '991825827' } })),
  };
}

/** A grant with defaults for the tests: `/org/ttd` may read `resource`. */
export const grant = (overrides: Partial<Grant> = {}): Grant => ({
  consumer: ttd,
  actions: ['read'],
  resources: [resource],
  ...overrides,
});

/**
 * Herald with a policy the test may replace at any moment (`h.policy = …`), as a changed policy file would,
 * and every request it answered remembered, so none may have been a 5xx.
 */
export interface PolicedHerald {
  t: TestApp;
  http: ReturnType<typeof recordingInject>;
  policy: Policy;
  /** Publishes events with the admin token, whatever the policy. */
  publishAsAdmin(...events: SecretEvent[]): Promise<void>;
  poll(query: Record<string, string>, auth?: Record<string, string>): Promise<LightMyRequestResponse>;
  subscribe(body: Record<string, unknown>, auth?: Record<string, string>): Promise<LightMyRequestResponse>;
  deliveries(subscriptionId: number): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function policedHerald(engine: Engine, options: { authorizer?: Authorizer } = {}): Promise<PolicedHerald> {
  const tokens = await callers();
  const h: PolicedHerald = {
    t: undefined as unknown as TestApp,
    http: undefined as unknown as ReturnType<typeof recordingInject>,
    policy: { grants: [] },
    async publishAsAdmin(...events) {
      const response = await h.http.inject({
        method: 'POST',
        url: eventsPath,
        headers: { ...tokens.admin, 'content-type': 'application/cloudevents-batch+json' },
        payload: JSON.stringify(events.map((e) => e.event)),
      });
      expect(response.statusCode, response.body).toBe(200);
    },
    poll(query, auth = h.t.auth) {
      return h.http.inject({ method: 'GET', url: `${eventsPath}?${new URLSearchParams(query)}`, headers: auth });
    },
    subscribe(body, auth = h.t.auth) {
      return h.http.inject({ method: 'POST', url: subscriptionsPath, headers: auth, payload: body });
    },
    deliveries(subscriptionId) {
      return h.http.inject({ method: 'GET', url: `${subscriptionsPath}/${subscriptionId}/deliveries?size=1000`, headers: h.t.auth });
    },
    async close() {
      expect(h.http.takeServerErrors(), 'no request may be answered with a 5xx').toEqual([]);
      await h.t.close();
    },
  };
  h.t = await createTestApp(engine, undefined, {
    authorizer: options.authorizer ?? policyAuthorizer(() => h.policy),
    schedule: [1_000],
    timeoutMs: 1_000,
  });
  h.http = recordingInject(h.t.app);
  return h;
}

/** The ids of the events in a poll answer or a pull page's `events`. */
export const idsIn = (events: unknown) => (events as { id: string }[]).map((e) => e.id);

/** The position a `next` link names in `after` (`~N`). */
export function positionIn(next: unknown): number {
  const after = new URL(String(next)).searchParams.get('after') ?? '';
  expect(after).toMatch(/^~\d+$/);
  return Number(after.slice(1));
}
