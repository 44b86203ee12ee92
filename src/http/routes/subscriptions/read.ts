import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { isOperator, parseConsumer } from '../../../domain/identity.js';
import type { SubscriptionRecord } from '../../../store/records.js';
import type { Store } from '../../../store/store.js';
import { subscriptionCountCap } from '../../../store/delivery-counts.js';
import { callerOf } from '../../auth/authenticate.js';
import { componentRef } from '../../openapi-components.js';
import { HttpProblem, invalid } from '../../problems.js';
import { readableSubscription, readerScopes } from './owned-subscription.js';
import { presentSubscription } from './present.js';
import { subscriptionsPath } from './subscriptions.js';

const pageSize = { default: 100, max: 1000 } as const;

/** `consumer=*`: every consumer's subscriptions (operators only). */
const everyConsumer = '*';

const ListQuery = Type.Object({
  after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'The last subscription id of the previous page.' })),
  size: Type.Optional(Type.Integer({ minimum: 1, maximum: pageSize.max, description: `Default ${pageSize.default}.` })),
  consumer: Type.Optional(
    Type.String({
      description:
        "Operators only (scope `herald:operator`): `*` for every consumer's subscriptions, or one consumer's, named as " +
        'Herald names it (`/org/ttd`, `/user/1337`, `/organisation/991825827`, `/sub/…` percent-encoded). Without it, ' +
        "the caller's own. Anyone else giving it gets a `403`.",
    }),
  ),
});

const countsNote =
  `Each subscription carries \`backlog\` and \`deadLetters\`, each counted up to ${subscriptionCountCap.toLocaleString('en')}: ` +
  '`countsCapped` is there when a count stopped at it (docs/subscriptions.md).';

const docs = {
  list: {
    summary: 'List subscriptions',
    description: `The caller's subscriptions; an operator may list every consumer's, or one consumer's, with \`consumer\`. ${countsNote}`,
    tags: ['Subscriptions'],
    operationId: 'listSubscriptions',
    documentedResponses: {
      200: {
        description: 'A page of subscriptions, by id; `next` is there while more may follow.',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['count', 'subscriptions'],
              properties: {
                count: { type: 'integer' },
                subscriptions: { type: 'array', items: componentRef('Subscription') },
                next: { type: 'string', description: 'The path of the next page.' },
              },
            },
          },
        },
      },
    },
  },
  read: {
    summary: 'Get a subscription',
    description: `The caller's own, or any consumer's for an operator (docs/operators.md). ${countsNote}`,
    tags: ['Subscriptions'],
    operationId: 'getSubscription',
    documentedResponses: { 200: { description: 'The subscription.', content: { 'application/json': { schema: componentRef('Subscription') } } } },
  },
};

/**
 * `GET /subscriptions[/{id}]`: the caller's subscriptions, or for an operator anyone's, each with its backlog
 * and dead letters.
 */
export async function subscriptionReadRoutes(app: FastifyInstance, options: { readonly store: Store }): Promise<void> {
  const { store } = options;

  app.get(subscriptionsPath, { ...readerScopes, schema: { querystring: ListQuery, ...docs.list } }, async (request) => {
    const { after = 0, size = pageSize.default } = request.query as { after?: number; size?: number };
    const consumer = listedConsumer(request);
    const page =
      consumer === everyConsumer
        ? await store.subscriptions.listEveryConsumer(after, size)
        : await store.subscriptions.listByConsumer(consumer, after, size);
    const last = page.at(-1);
    const given = (request.query as { consumer?: string }).consumer;
    const next = new URLSearchParams({ after: String(last?.id ?? after), size: String(size), ...(given === undefined ? {} : { consumer: given }) });
    return {
      count: page.length,
      subscriptions: await withCounts(store, page),
      ...(page.length === size && last ? { next: `${subscriptionsPath}?${next}` } : {}),
    };
  });

  app.get(`${subscriptionsPath}/:id`, { ...readerScopes, schema: docs.read }, async (request) =>
    presentCounted(store, await readableSubscription(store, request)),
  );
}

/**
 * Whose subscriptions a listing shows: the caller's own without `consumer`; with it, the consumer named (or
 * `*`), for an operator only. Anyone else is refused whatever they name, so the answer tells nothing of it.
 */
function listedConsumer(request: FastifyRequest): string {
  const caller = callerOf(request);
  const { consumer } = request.query as { consumer?: string };
  if (consumer === undefined) return caller.consumer;
  if (!isOperator(caller)) {
    throw new HttpProblem('forbidden', "Only an operator (scope 'herald:operator') may list another consumer's subscriptions: leave out 'consumer' to list your own.");
  }
  if (consumer === everyConsumer || parseConsumer(consumer) !== undefined) return consumer;
  throw invalid('invalidQuery', [
    {
      field: 'consumer',
      message:
        `'consumer' must be '*' (every consumer) or a consumer as Herald names it, such as /org/ttd, /user/1337, ` +
        `/organisation/991825827 or /sub/client-7 (a sub, percent-encoded), not '${consumer.slice(0, 80)}'.`,
    },
  ]);
}

/** A page of subscriptions as the API shows them, with their counts: one statement for the whole page. */
async function withCounts(store: Store, page: readonly SubscriptionRecord[]) {
  const counts = await store.deliveries.counts.bySubscription(page.map((s) => s.id));
  return page.map((s) => presentSubscription(s, { counts: counts.get(s.id) ?? { backlog: 0, deadLetters: 0, capped: false } }));
}

/** One subscription as `GET /subscriptions/{id}` shows it, with its counts. */
export async function presentCounted(store: Store, subscription: SubscriptionRecord) {
  const [shown] = await withCounts(store, [subscription]);
  return shown;
}
