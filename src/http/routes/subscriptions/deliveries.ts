import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Authorizer } from '../../../domain/policy.js';
import { type DeliveryStatus, deliveryStatuses } from '../../../domain/delivery-status.js';
import { parseRedriveFilter } from '../../../domain/redrive-filter.js';
import type { Store } from '../../../store/store.js';
import { componentRef } from '../../openapi-components.js';
import { invalid } from '../../problems.js';
import { readableEvents } from '../../readable-events.js';
import { readableSubscription, readerScopes, redrivableSubscription } from './owned-subscription.js';
import { presentDelivery } from './present.js';
import { subscriptionsPath } from './subscriptions.js';

const DeliveriesQuery = Type.Object({
  status: Type.Optional(
    // A plain enum: the validator then names the allowed values once (an anyOf of constants says it once each).
    Type.Unsafe<string>({ type: 'string', enum: [...deliveryStatuses], description: "Only deliveries in this state; 'dead' lists the dead letters." }),
  ),
  after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'The last delivery id of the previous page.' })),
  size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Default 50.' })),
});

const docs = {
  list: {
    summary: "List a subscription's deliveries",
    description: 'Each delivery with its state, attempts and last status or error; dead letters included.',
    tags: ['Deliveries'],
    operationId: 'listDeliveries',
    documentedResponses: {
      200: {
        description: 'A page of deliveries, by id; `next` is there while more may follow.',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['count', 'deliveries'],
              properties: {
                count: { type: 'integer' },
                deliveries: { type: 'array', items: componentRef('Delivery') },
                next: { type: 'string', description: 'The path of the next page.' },
              },
            },
          },
        },
      },
    },
  },
  redrive: {
    summary: 'Redrive the dead letters',
    description:
      'Queues the dead deliveries of the subscription again, with a fresh retry ladder: every one, or (with a body) ' +
      'those that died in a time range, or whose last attempt got a status code or failed for a reason ' +
      '(docs/dead-letters.md). Not for a subscription an operator disabled: `409`.',
    tags: ['Deliveries'],
    operationId: 'redriveDeliveries',
    documentedBody: {
      'application/json': {
        schema: componentRef('RedriveRequest'),
        examples: {
          everything: { summary: 'Every dead letter (as no body does)', value: {} },
          outage: {
            summary: 'What died of 503s during an outage',
            value: { diedFrom: '2020-02-20T08:00:00Z', diedUntil: '2030-02-20T09:00:00Z', statusCode: 503 },
          },
          timeouts: { summary: 'What died of timeouts', value: { errorKind: 'timeout' } },
        },
      },
    },
    documentedResponses: {
      200: {
        description: 'How many deliveries were queued again.',
        content: {
          'application/json': {
            schema: { type: 'object', required: ['redriven'], properties: { redriven: { type: 'integer' } } },
          },
        },
      },
    },
    problems: [409],
  },
};

/** A subscription's delivery log and dead letters: `/subscriptions/{id}/deliveries[/redrive]`. */
export async function deliveryRoutes(
  app: FastifyInstance,
  options: {
    readonly store: Store;
    readonly wakeDispatcher: () => void;
    readonly authorizer: Authorizer;
    readonly clock?: () => number;
  },
): Promise<void> {
  const { store } = options;
  const clock = options.clock ?? Date.now;
  app.get(`${subscriptionsPath}/:id/deliveries`, { ...readerScopes, schema: { querystring: DeliveriesQuery, ...docs.list } }, async (request) => {
    // Its owner's, or anyone's for an operator (docs/operators.md).
    const subscription = await readableSubscription(store, request);
    const { status, after = 0, size = 50 } = request.query as { status?: DeliveryStatus; after?: number; size?: number };
    const page = await store.deliveries.list(subscription.id, status, after, size);
    const last = page.at(-1);
    // A delivery of an event the subscriber may not read (a revoked grant) is still listed, so it is not lost
    // from view, but without the event's id: nothing of the event itself is shown.
    const readable = new Set(
      (await readableEvents(store, options.authorizer, subscription.consumer, page.map((d) => ({ seq: d.eventSeq, id: d.id })))).map(
        (d) => d.id,
      ),
    );
    const shown = page.map((d) => (readable.has(d.id) ? presentDelivery(d) : { ...presentDelivery(d), eventId: undefined }));
    const next = new URLSearchParams({ after: String(last?.id ?? after), size: String(size), ...(status ? { status } : {}) });
    return {
      count: shown.length,
      deliveries: shown,
      ...(page.length === size ? { next: `${subscriptionsPath}/${subscription.id}/deliveries?${next}` } : {}),
    };
  });

  app.post(`${subscriptionsPath}/:id/deliveries/redrive`, { ...readerScopes, schema: docs.redrive }, async (request) => {
    // Redriven deliveries of a disabled subscription would wait for it anyway; an operator's disable is
    // refused outright, so the owner learns why nothing arrives.
    const subscription = await redrivableSubscription(store, request);
    const filter = parseRedriveFilter(request.body);
    if (!filter.ok) throw invalid('invalidRequest', filter.errors);
    const redriven = await store.deliveries.redrive(subscription.id, clock(), filter.value);
    options.wakeDispatcher();
    return { redriven };
  });
}
