import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Authorizer } from '../../../domain/policy.js';
import type { DeliveryRecord, SubscriptionRecord } from '../../../store/records.js';
import type { Store } from '../../../store/store.js';
import { componentRef } from '../../openapi-components.js';
import { HttpProblem, invalid } from '../../problems.js';
import { readableEvents } from '../../readable-events.js';
import { readableSubscription, readerScopes, redrivableSubscription } from './owned-subscription.js';
import { presentAttempt, presentDelivery } from './present.js';
import { subscriptionsPath } from './subscriptions.js';

/** Attempts one page shows by default, and at most: each may carry 4 KiB of body. */
const defaultAttemptsPage = 25;
const maxAttemptsPage = 100;

const AttemptsQuery = Type.Object({
  after: Type.Optional(
    Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'The last attempt id of the previous page.' }),
  ),
  size: Type.Optional(Type.Integer({ minimum: 1, maximum: maxAttemptsPage, description: `Default ${defaultAttemptsPage}.` })),
});

const deliveryAnswer = (description: string) => ({
  description,
  content: { 'application/json': { schema: componentRef('DeliveryDetail') } },
});

const docs = {
  read: {
    summary: 'Get a delivery',
    description:
      'One delivery of the subscription: its event, state, attempts made in its current ladder, next attempt, last ' +
      'outcome and latest attempt on record (docs/delivery.md, "Attempts").',
    tags: ['Deliveries'],
    operationId: 'getDelivery',
    documentedResponses: { 200: deliveryAnswer('The delivery.') },
    problems: [400],
  },
  attempts: {
    summary: "List a delivery's attempts",
    description:
      'Every attempt on record, in the order they were made (oldest first), with what the endpoint answered ' +
      '(status, headers, the first 4 KiB of the body) or why no answer came. Kept as long as the delivery is ' +
      '(HERALD_RETENTION, HERALD_DELIVERY_RETENTION). Paged by attempt id: `next` is there while more may follow.',
    tags: ['Deliveries'],
    operationId: 'listDeliveryAttempts',
    documentedResponses: {
      200: {
        description: 'A page of attempts, oldest first.',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['count', 'attempts'],
              properties: {
                count: { type: 'integer' },
                attempts: { type: 'array', items: componentRef('Attempt') },
                next: { type: 'string', description: 'The path of the next page.' },
              },
            },
          },
        },
      },
    },
  },
  resend: {
    summary: 'Send a delivery again',
    description:
      'Whatever its status (delivered, dead, waiting): it waits again with a fresh retry ladder and is due now, under ' +
      'the same `webhook-id` (a retry of the same message, as Standard Webhooks has it). Of an ordered subscription ' +
      "it still waits for its key's delivery in flight, then goes before the key's later events (docs/delivery.md, " +
      '"Resend"). One in flight right now is a `409`; so is a pull subscription\'s, and any of a subscription an ' +
      'operator disabled.',
    tags: ['Deliveries'],
    operationId: 'resendDelivery',
    documentedResponses: { 200: deliveryAnswer('The delivery as it now stands.') },
    problems: [400, 409],
  },
};

export interface DeliveryAttemptRoutesOptions {
  readonly store: Store;
  readonly wakeDispatcher: () => void;
  readonly authorizer: Authorizer;
  readonly clock?: (() => number) | undefined;
}

/**
 * One delivery of a subscription, its attempts on record, and sending it again:
 * `/subscriptions/{id}/deliveries/{deliveryId}[/attempts|/resend]` (docs/delivery.md).
 */
export async function deliveryAttemptRoutes(app: FastifyInstance, options: DeliveryAttemptRoutesOptions): Promise<void> {
  const { store } = options;
  const clock = options.clock ?? Date.now;
  const deliveryPath = `${subscriptionsPath}/:id/deliveries/:deliveryId`;

  app.get(deliveryPath, { ...readerScopes, schema: docs.read }, async (request) => {
    const deliveryId = deliveryIdOf(request);
    const subscription = await readableSubscription(store, request);
    const delivery = await store.deliveries.get(subscription.id, deliveryId);
    if (!delivery) throw noSuchDelivery(deliveryId);
    return presentDetail(options, subscription, delivery);
  });

  app.get(`${deliveryPath}/attempts`, { ...readerScopes, schema: { querystring: AttemptsQuery, ...docs.attempts } }, async (request) => {
    const deliveryId = deliveryIdOf(request);
    const subscription = await readableSubscription(store, request);
    const { after = 0, size = defaultAttemptsPage } = request.query as { after?: number; size?: number };
    if (!(await store.deliveries.get(subscription.id, deliveryId))) throw noSuchDelivery(deliveryId);
    const page = await store.attempts.list(deliveryId, after, size);
    const next = new URLSearchParams({ after: String(page.at(-1)?.id ?? after), size: String(size) });
    return {
      count: page.length,
      attempts: page.map(presentAttempt),
      ...(page.length === size ? { next: `${subscriptionsPath}/${subscription.id}/deliveries/${deliveryId}/attempts?${next}` } : {}),
    };
  });

  app.post(`${deliveryPath}/resend`, { ...readerScopes, schema: docs.resend }, async (request) => {
    const deliveryId = deliveryIdOf(request);
    const subscription = await redrivableSubscription(store, request);
    refuseIfPull(subscription, 'resend');
    const result = await store.deliveries.resend(subscription.id, deliveryId, clock());
    if (result.kind === 'notFound') throw noSuchDelivery(deliveryId);
    if (result.kind === 'inFlight') {
      throw new HttpProblem(
        'deliveryInFlight',
        `Delivery ${deliveryId} is being attempted right now; resend it once that attempt's outcome is recorded.`,
      );
    }
    options.wakeDispatcher();
    return presentDetail(options, subscription, result.delivery);
  });
}

/** A push-only action asked of a pull subscription: it has no endpoint to send to. */
export function refuseIfPull(subscription: SubscriptionRecord, action: string): void {
  if (subscription.endpoint !== null) return;
  throw new HttpProblem(
    'pushOnly',
    `Subscription ${subscription.id} is a pull subscription: it has no endpoint, so there is nothing to ${action}. Read its queue at /subscriptions/${subscription.id}/events.`,
  );
}

async function presentDetail(options: DeliveryAttemptRoutesOptions, subscription: SubscriptionRecord, delivery: DeliveryRecord) {
  const lastAttempt = await options.store.attempts.last(delivery.id);
  // As in the list: the event's id only while the subscriber may read the event.
  const [readable] = await readableEvents(options.store, options.authorizer, subscription.consumer, [{ seq: delivery.eventSeq, id: delivery.id }]);
  const shown = presentDelivery(delivery);
  return {
    ...shown,
    eventId: readable ? shown.eventId : undefined,
    webhookId: `msg_${delivery.id}`,
    lastAttempt: lastAttempt && presentAttempt(lastAttempt),
  };
}

/** The `{deliveryId}` of the path; one that cannot be a delivery id is a 400 (an unknown one is a 404). */
function deliveryIdOf(request: FastifyRequest): number {
  const raw = (request.params as { deliveryId?: string }).deliveryId ?? '';
  const id = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(id) || id < 1) {
    throw invalid('invalidRequest', [{ field: 'deliveryId', message: `'${raw.slice(0, 40)}' is not a delivery id: delivery ids are positive integers.` }]);
  }
  return id;
}

function noSuchDelivery(deliveryId: number): HttpProblem {
  return new HttpProblem('notFound', `This subscription has no delivery with id ${deliveryId}.`);
}
