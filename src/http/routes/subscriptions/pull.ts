import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { decodeCheckpoint, encodeCheckpoint } from '../../../domain/checkpoint.js';
import { scopes } from '../../../domain/identity.js';
import { parsePullQuery, pullLimits } from '../../../domain/pull-query.js';
import type { QueuedEvent } from '../../../store/pull-repository.js';
import type { Authorizer } from '../../../domain/policy.js';
import type { HeraldMetrics } from '../../../observability/herald-metrics.js';
import type { Store } from '../../../store/store.js';
import { componentRef } from '../../openapi-components.js';
import { HttpProblem, invalid } from '../../problems.js';
import { readableEvents } from '../../readable-events.js';
import { ownedSubscription } from './owned-subscription.js';
import { subscriptionsPath } from './subscriptions.js';

export interface PullRouteOptions {
  readonly store: Store;
  readonly authorizer: Authorizer;
  /** Signs and checks checkpoints; shared by every process on the database. */
  readonly checkpointKey: Uint8Array;
  readonly clock?: () => number;
  readonly metrics?: HeraldMetrics | undefined;
  /** A subscription unread for this long is inactive (HERALD_SUBSCRIPTION_INACTIVITY); default 30 days. */
  readonly inactivityMs?: number | undefined;
}

const defaultInactivityMs = 30 * 24 * 60 * 60_000;

/** Strings for Fastify, so `parsePullQuery` answers bad values in Herald's words; documented as `pullQueryDocs`. */
const PullQueryString = Type.Object({
  limit: Type.Optional(Type.String()),
  checkPoint: Type.Optional(Type.String()),
  wait: Type.Optional(Type.String()),
});

/** The query as Herald reads it; no examples, so "Try it out" starts with none of them set. */
const pullQueryDocs = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: pullLimits.maxLimit, description: `Events per page, 1 to ${pullLimits.maxLimit}; default ${pullLimits.defaultLimit}.` })),
  checkPoint: Type.Optional(
    Type.String({ description: 'The checkPoint of the previous page: acknowledges it. Leave out on the first call.' }),
  ),
  wait: Type.Optional(
    Type.Integer({ minimum: 0, maximum: pullLimits.maxWaitSeconds, description: `Seconds (0 to ${pullLimits.maxWaitSeconds}) to wait for events when the queue is empty; default 0.` }),
  ),
});

const pullDocs = {
  summary: "Read a pull subscription's queue",
  description:
    'The earliest queued events and a checkPoint. Passing that checkPoint on the next call acknowledges the ' +
    'page (its events leave the queue) and returns the next one; a page never acknowledged is served again. ' +
    'An empty `events` array means the queue is drained.',
  tags: ['Pull'],
  operationId: 'getSubscriptionEvents',
  documentedQuery: pullQueryDocs,
  documentedResponses: {
    200: {
      description: 'A page of the queue.',
      content: {
        'application/json': {
          schema: {
            type: 'object',
            required: ['checkPoint', 'events'],
            properties: {
              checkPoint: { type: 'string', description: 'Pass it on the next call to acknowledge this page.' },
              events: { type: 'array', items: componentRef('CloudEvent') },
            },
          },
        },
      },
    },
  },
  problems: [429],
};

/**
 * `GET /subscriptions/{id}/events`: a pull subscription's queue, page by page. The checkPoint a page comes
 * with acknowledges that page when it is passed back; a page never acknowledged is served again.
 */
export async function pullRoute(app: FastifyInstance, options: PullRouteOptions): Promise<void> {
  const { store, checkpointKey } = options;
  const clock = options.clock ?? Date.now;
  const inactivityMs = options.inactivityMs ?? defaultInactivityMs;

  app.get(
    `${subscriptionsPath}/:id/events`,
    { config: { scopes: [scopes.subscribe] }, schema: { querystring: PullQueryString, ...pullDocs } },
    async (request, reply) => {
      const subscription = await ownedSubscription(store, request);
      if (subscription.endpoint !== null) {
        throw new HttpProblem(
          'invalidRequest',
          'This subscription pushes to its endpoint. Only a subscription created without an endPoint has a queue to read.',
        );
      }
      const parsed = parsePullQuery(request.query as Record<string, unknown>);
      if (!parsed.ok) throw invalid('invalidQuery', parsed.errors);
      const { limit, waitSeconds, checkPoint } = parsed.value;

      let checkpoint: { upTo: number; epoch: number } | undefined;
      if (checkPoint !== undefined) {
        const decoded = decodeCheckpoint(checkPoint, checkpointKey);
        if (!decoded || decoded.subscriptionId !== subscription.id) {
          throw new HttpProblem('invalidCheckpoint', 'The checkPoint is not one Herald gave out for this subscription.');
        }
        checkpoint = { upTo: decoded.deliveryId, epoch: decoded.epoch };
      }
      // Whether the subscription has been unread too long is judged here, with the read itself (the sweep only
      // tidies up), so a reader coming back after the limit never has its old checkpoint honoured.
      const now = clock();
      const position = await store.pull.recordRead({
        subscriptionId: subscription.id,
        checkpoint,
        now,
        inactiveBefore: now - inactivityMs,
        seenStatus: subscription.status,
      });
      if (!position) throw new HttpProblem('notFound', `You have no subscription with id '${subscription.id}'.`);
      if (!position.counted) {
        throw new HttpProblem(
          'checkpointOutOfRange',
          'The subscription went inactive after this checkPoint was given out, so it no longer counts. ' +
            'Call again without a checkPoint to read from the earliest queued event and get a valid one.',
        );
      }
      // Events the subscriber may no longer read (a revoked grant) are left out and acknowledged with the page.
      // An empty page means drained, so a page left with nothing to show is passed over and the read goes on
      // (waiting, if asked to, for events it may read), within the time one call may take.
      const waitUntil = Date.now() + waitSeconds * 1000;
      const giveUpAt = Date.now() + pullLimits.maxWaitSeconds * 1000;
      let reached = position.acknowledged;
      let shown: readonly QueuedEvent[];
      for (;;) {
        const events = await readWaiting(store, subscription.id, reached, limit, Math.max(0, waitUntil - Date.now()), reply);
        // A row whose event retention removed an instant ago (a replay's, written just before) has no payload.
        shown = (await readableEvents(store, options.authorizer, subscription.consumer, events)).filter((e) => e.payload !== null);
        reached = events.at(-1)?.id ?? reached;
        if (shown.length > 0 || events.length === 0 || reply.raw.destroyed || Date.now() >= giveUpAt) break;
      }
      options.metrics?.pulled(shown.length);
      const next = encodeCheckpoint({ subscriptionId: subscription.id, deliveryId: reached, epoch: position.epoch }, checkpointKey);
      // Built from the stored JSON texts: no event is parsed or serialized again.
      return reply
        .type('application/json; charset=utf-8')
        .send(`{"checkPoint":${JSON.stringify(next)},"events":[${shown.map((e) => e.payload).join(',')}]}`);
    },
  );
}

/**
 * Reads a page; if it is empty and the caller will wait, holds the request until events are queued, the wait
 * ends, or the caller goes away.
 */
async function readWaiting(
  store: Store,
  subscriptionId: number,
  after: number,
  limit: number,
  waitMs: number,
  reply: FastifyReply,
): Promise<QueuedEvent[]> {
  const deadline = Date.now() + waitMs;
  // Watching starts before the first read, not after an empty one: an event queued while that read was on its
  // way back would otherwise go unnoticed, and the request would be held until the deadline.
  let queued = false;
  let wakeUp: (() => void) | undefined;
  const stopWatching =
    waitMs > 0
      ? store.watch((topic) => {
          if (topic !== 'deliveries') return;
          queued = true;
          wakeUp?.();
        })
      : () => {};
  try {
    for (;;) {
      queued = false;
      const events = await store.pull.read(subscriptionId, after, limit);
      const remaining = deadline - Date.now();
      if (events.length > 0 || remaining <= 0 || reply.raw.destroyed) return events;
      if (queued) continue;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          wakeUp = undefined;
          reply.raw.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, remaining);
        wakeUp = done;
        reply.raw.once('close', done);
      });
    }
  } finally {
    stopWatching();
  }
}
