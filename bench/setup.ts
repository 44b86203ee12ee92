import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { DeliveryOrdering } from '../src/domain/delivery-ordering.js';
import type { EventFilter } from '../src/domain/event-filter.js';
import { subscriptionIdentity } from '../src/domain/subscription-request.js';
import { formatWebhookSecret } from '../src/domain/webhook-signature.js';
import { openStore } from '../src/store/open-store.js';

export const benchSecret = 'herald-benchmark-secret-of-at-least-32-bytes';

/** A token that may publish and subscribe, for consumer `/org/<org>`. */
export async function benchToken(org = 'bench'): Promise<string> {
  return new SignJWT({ scope: 'altinn:events.publish altinn:events.subscribe', org })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(benchSecret));
}

/** Herald's environment for a benchmark database: durability stays on (the defaults). */
export function heraldEnv(database: string): Record<string, string> {
  // One consumer drives the whole load, so the per-consumer rate limits are off.
  return {
    HERALD_DATABASE: database,
    HERALD_JWT_SECRET: benchSecret,
    HERALD_ALLOW_PRIVATE_ENDPOINTS: 'true',
    HERALD_PUBLISH_RATE_LIMIT: '0',
    HERALD_READ_RATE_LIMIT: '0',
  };
}

/**
 * Adds active subscriptions straight to the store (no handshakes), before Herald starts. `matching` of them
 * match the benchmark's events (an endpoint of null makes a pull subscription; a source filter may narrow
 * one; the consumer is `/org/bench` unless named; a push one may be ordered, and any may have filter expressions);
 * the rest are spread over other resources and sources, half by each, so the match index is exercised without
 * fanning out.
 */
export async function seedSubscriptions(
  database: string,
  total: number,
  matching: {
    endpoint: string | null;
    resource: string;
    source?: string;
    consumer?: string;
    ordering?: DeliveryOrdering;
    filters?: EventFilter[];
  }[],
): Promise<number[]> {
  const store = await openStore(database);
  const now = Date.now();
  const specs = [
    ...matching.map((m) => ({
      endpoint: m.endpoint,
      resourceFilter: m.resource,
      sourceFilter: m.source ?? null,
      consumer: m.consumer,
      ...(m.ordering ? { ordering: m.ordering } : {}),
      ...(m.filters ? { filters: m.filters } : {}),
    })),
    ...Array.from({ length: total - matching.length }, (_, i) =>
      i % 2 === 0
        ? { endpoint: 'http://127.0.0.1:9/none', resourceFilter: `urn:altinn:resource:other-${i}`, sourceFilter: null }
        : { endpoint: 'http://127.0.0.1:9/none', resourceFilter: null, sourceFilter: `https://other-${i}.example/app` },
    ),
  ] as {
    endpoint: string | null;
    resourceFilter: string | null;
    sourceFilter: string | null;
    consumer?: string;
    ordering?: DeliveryOrdering;
    filters?: EventFilter[];
  }[];
  const ids: number[] = [];
  for (const { consumer = '/org/bench', ...spec } of specs) {
    const full = { ...spec, subjectFilter: null, alternativeSubjectFilter: null, typeFilter: null };
    const { subscription } = await store.subscriptions.create({
      ...full,
      identity: subscriptionIdentity(consumer, full),
      consumer,
      createdBy: consumer,
      secret: formatWebhookSecret(randomBytes(32)),
      status: 'active',
      nextValidationAt: null,
      validatedAt: now,
      now,
    });
    ids.push(subscription.id);
  }
  await store.close();
  return ids;
}
