import { expect } from 'vitest';
import type { HeraldUnderTest } from '../support/test-app.js';
import { sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';

export const resource = 'urn:altinn:resource:delivery.test';

const authorization = async () => ({ authorization: `Bearer ${await testToken()}` });

/** Creates a subscription to `resource` at `endpoint` and runs the handshake; returns it with its secret. */
export async function subscribe(herald: HeraldUnderTest, endpoint: string, filters: Record<string, string> = {}) {
  const created = await herald.app.inject({
    method: 'POST',
    url: '/events/api/v1/subscriptions',
    headers: await authorization(),
    payload: { endPoint: endpoint, resourceFilter: resource, ...filters },
  });
  expect(created.statusCode, created.body).toBe(201);
  await herald.dispatcher.runOnce();
  const subscription = created.json() as { id: number; secret: string };
  const after = await herald.app.inject({
    method: 'GET',
    url: `/events/api/v1/subscriptions/${subscription.id}`,
    headers: await authorization(),
  });
  return { ...subscription, status: (after.json() as { status: string }).status };
}

export async function publish(herald: HeraldUnderTest, ...ids: string[]) {
  const response = await herald.app.inject({
    method: 'POST',
    url: '/events/api/v1/events',
    headers: { ...(await authorization()), 'content-type': 'application/cloudevents-batch+json' },
    payload: JSON.stringify(ids.map((id) => sampleEvent({ id, resource }))),
  });
  expect(response.statusCode, response.body).toBe(200);
}

export async function deliveriesOf(herald: HeraldUnderTest, subscriptionId: number, status?: string) {
  const response = await herald.app.inject({
    method: 'GET',
    url: `/events/api/v1/subscriptions/${subscriptionId}/deliveries?size=1000${status ? `&status=${status}` : ''}`,
    headers: await authorization(),
  });
  expect(response.statusCode, response.body).toBe(200);
  return (response.json() as { deliveries: Record<string, unknown>[] }).deliveries;
}

/** Waits, briefly and boundedly, for a condition that background work makes true. */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
