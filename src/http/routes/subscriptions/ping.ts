import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { signedPost } from '../../../delivery/signed-post.js';
import type { WebhookSender } from '../../../delivery/webhook-sender.js';
import { recordOfAttempt } from '../../../domain/delivery-attempt.js';
import { scopes } from '../../../domain/identity.js';
import { ConsumerRateLimiter } from '../../../domain/rate-limit.js';
import { secretsInUse } from '../../../domain/secret-rotation.js';
import { componentRef } from '../../openapi-components.js';
import { tooManyRequests } from '../../rate-limits.js';
import type { Store } from '../../../store/store.js';
import { refuseIfPull } from './delivery-attempts.js';
import { changeableSubscription } from './owned-subscription.js';
import { presentAttempt } from './present.js';
import { subscriptionsPath } from './subscriptions.js';

/** The type of the test event a ping sends. */
export const pingEventType = 'herald.ping';

/**
 * Pings one consumer may send, per process: a few at once, then one every six seconds. Enough to try an endpoint
 * while fixing it; too few to point Herald at someone else's server as a request cannon.
 */
export const pingLimit = { burst: 5, perSecond: 1 / 6 } as const;

const docs = {
  ping: {
    summary: "Send a test event to a subscription's endpoint",
    description:
      `POSTs a signed test CloudEvent of type \`${pingEventType}\` to the endpoint now, through the same sender, ` +
      'signature and endpoint checks as deliveries and within the same time limit (HERALD_DELIVERY_TIMEOUT), and ' +
      'answers with the attempt: the status, how long it took and the start of the body, or why no answer came. ' +
      'The answer is 200 whatever the endpoint did; `delivered` says whether it answered 2xx. Nothing is stored, ' +
      "and the subscription's status and health do not change. A pull subscription has no endpoint: `409`. At most " +
      `${pingLimit.burst} pings at once per consumer, then one every ${Math.round(1 / pingLimit.perSecond)} s: \`429\`.`,
    tags: ['Deliveries'],
    operationId: 'pingSubscription',
    documentedResponses: {
      200: {
        description: 'The attempt.',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['webhookId', 'eventId', 'delivered', 'attempt'],
              properties: {
                webhookId: { type: 'string', description: 'The `webhook-id` the test event carried (new for every ping).' },
                eventId: { type: 'string', description: "The test event's `id`." },
                delivered: { type: 'boolean', description: 'The endpoint answered 2xx.' },
                attempt: componentRef('PingAttempt'),
              },
            },
            examples: {
              answered: {
                summary: 'The endpoint answered',
                value: {
                  webhookId: 'msg_ping_6f1c1a52-4f3e-4c39-9d3a-3c8f0f7f0a11',
                  eventId: '6f1c1a52-4f3e-4c39-9d3a-3c8f0f7f0a11',
                  delivered: true,
                  attempt: { started: '2026-12-07T14:00:00.000Z', durationMs: 38, statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'ok', bodyTruncated: false },
                },
              },
            },
          },
        },
      },
    },
    problems: [409, 429],
  },
};

export interface PingRouteOptions {
  readonly store: Store;
  /** The sender deliveries go through (its time limit and endpoint guard). */
  readonly sender: WebhookSender;
  /** Herald's public base URL, for the test event's `source`; unset, the request's own origin. */
  readonly baseUrl?: string | undefined;
  readonly clock?: (() => number) | undefined;
}

/** `POST /subscriptions/{id}/ping` (docs/delivery.md, "Ping"). */
export async function pingRoute(app: FastifyInstance, options: PingRouteOptions): Promise<void> {
  const clock = options.clock ?? Date.now;
  const limiter = new ConsumerRateLimiter(pingLimit.perSecond, pingLimit.burst);

  app.post(`${subscriptionsPath}/:id/ping`, { config: { scopes: [scopes.subscribe] }, schema: docs.ping }, async (request) => {
    const subscription = await changeableSubscription(options.store, request);
    refuseIfPull(subscription, 'ping');
    const wait = limiter.take(subscription.consumer, 1, Date.now());
    if (wait > 0) throw tooManyRequests(wait, 'pings');
    const eventId = randomUUID();
    const base = options.baseUrl ?? `${request.protocol}://${request.host}`;
    const event = JSON.stringify({
      specversion: '1.0',
      id: eventId,
      source: `${base}${subscriptionsPath}/${subscription.id}`,
      type: pingEventType,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data: { subscriptionId: subscription.id, message: 'A test event: Herald checks that this endpoint answers.' },
    });
    // A message of its own every time: a receiver that deduplicates on webhook-id must see each ping.
    const webhookId = `msg_ping_${eventId}`;
    const startedAt = clock();
    // Signed as a delivery would be now: during a rotation's grace period, with both secrets.
    const response = await signedPost(options.sender, subscription.endpoint ?? '', secretsInUse(subscription, startedAt), webhookId, event);
    const attempt = recordOfAttempt(response, startedAt);
    const delivered = response.kind === 'answered' && response.statusCode >= 200 && response.statusCode < 300;
    const shown = presentAttempt({
        id: 0,
        deliveryId: 0,
        startedAt: attempt.startedAt,
        durationMs: attempt.durationMs,
        statusCode: attempt.answer?.statusCode ?? null,
        headers: attempt.answer?.headers ?? null,
        body: attempt.answer?.body ?? null,
        bodyTruncated: attempt.answer?.bodyTruncated ?? false,
        errorKind: attempt.errorKind ?? null,
        error: attempt.error ?? null,
      });
    // Not stored, so no attempt id.
    delete shown.id;
    return { webhookId, eventId, delivered, attempt: shown };
  });
}
