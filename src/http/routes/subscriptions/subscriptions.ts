import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { refuseNonPublicEndpoint } from '../../../delivery/endpoint-guard.js';
import { parseConsumer, scopes } from '../../../domain/identity.js';
import type { Authorizer } from '../../../domain/policy.js';
import {
  parseSubscriptionRequest,
  type SubscriptionSpec,
  subscriptionIdentity,
  subscriptionMessages,
} from '../../../domain/subscription-request.js';
import { initialSubscriptionStatus } from '../../../domain/subscription-status.js';
import { formatWebhookSecret } from '../../../domain/webhook-signature.js';
import type { SubscriptionRecord } from '../../../store/records.js';
import type { Store } from '../../../store/store.js';
import { callerOf } from '../../auth/authenticate.js';
import { componentRef } from '../../openapi-components.js';
import { HttpProblem, invalid } from '../../problems.js';
import { defaultReplayLimits, type ReplayLimits } from '../../../domain/replay.js';
import type { ReplayCounting } from '../../replay-plan.js';
import { planBackfill, startBackfill, startFromIn } from './backfill.js';
import { changeableSubscription, refuseIfOperatorDisabled, refusedChange } from './owned-subscription.js';
import { presentReplay, presentSubscription } from './present.js';
import { refuseUnauthorizedSubscription } from './subscribe-permission.js';

export interface SubscriptionRoutesOptions {
  readonly store: Store;
  /** Plain http and private addresses allowed as endpoints (development and tests). */
  readonly allowPrivateEndpoints: boolean;
  /** Tells the dispatcher work is due (a handshake to run). */
  readonly wakeDispatcher: () => void;
  /** Rebuilds this process's match index, so a subscription active at creation matches the next event. */
  readonly refreshMatching: (subscriptionId: number) => Promise<void>;
  readonly authorizer: Authorizer;
  /** Subscriptions one consumer may have (a bound on what one caller can make every process index). */
  readonly maxPerConsumer?: number;
  /** Tells the replay loop a backfill (`startFrom`) is waiting. */
  readonly wakeReplayer?: () => void;
  readonly replayLimits?: Partial<ReplayLimits> | undefined;
  /** One count of a replay's range at a time per consumer (shared with the replay routes). */
  readonly replayCounting: ReplayCounting;
  readonly clock?: () => number;
}

export const subscriptionsPath = '/events/api/v1/subscriptions';
export const defaultMaxSubscriptionsPerConsumer = 1_000;

const subscriptionAnswer = (description: string) => ({
  description,
  content: { 'application/json': { schema: componentRef('Subscription') } },
});

/** What the document says about each route; the request body is read and checked by the domain. */
const docs = {
  create: {
    summary: 'Create a subscription',
    description:
      'With an `endPoint`, a push subscription: Herald checks the endpoint with a validation event, then POSTs ' +
      'each matching event to it, signed (Standard Webhooks). Without one, a pull subscription read from ' +
      '`/subscriptions/{id}/events`. Asking again for an identical subscription answers with the existing one ' +
      '(`409` if an operator disabled it). `startFrom` backfills a new subscription from a time or an event: ' +
      'the answer names the backfill replay in `backfill` (docs/replay.md). A push subscription may ask for ' +
      '`ordering` by `subject` or `partitionkey`: events with the same key are delivered one at a time, in log ' +
      'order (docs/ordering.md). `filters` adds the CloudEvents Subscriptions API\'s filter expressions (`exact`, ' +
      '`prefix`, `suffix`, `all`, `any`, `not`, `sql`), every one of which must hold besides the Altinn filters; a bad ' +
      'one is a 400 naming it by a JSON pointer (`filters/2/all/0`) (docs/filters.md).',
    tags: ['Subscriptions'],
    operationId: 'createSubscription',
    documentedBody: {
      'application/json': {
        schema: componentRef('SubscriptionRequest'),
        examples: {
          push: {
            summary: 'Push new estate events to a webhook',
            value: {
              endPoint: 'https://example.com/herald/webhook',
              resourceFilter: 'urn:altinn:resource:dodsbo.domstoladmin.api',
              typeFilter: 'no.altinn.events.digitalt-dodsbo.opprettet',
            },
          },
          ordered: {
            summary: 'Push the events of each party in order, parties in parallel',
            value: {
              endPoint: 'https://example.com/herald/webhook',
              resourceFilter: 'urn:altinn:resource:dodsbo.domstoladmin.api',
              ordering: 'subject',
            },
          },
          orderedStrict: {
            summary: 'Order by partition key, and stop a key at a dead letter until it is redriven',
            value: {
              endPoint: 'https://example.com/herald/webhook',
              resourceFilter: 'urn:altinn:resource:dodsbo.domstoladmin.api',
              ordering: 'partitionkey',
              onDeadLetter: 'block',
            },
          },
          filters: {
            summary: 'Filter expressions besides the resource: a type prefix, not one party, a CESQL condition',
            value: {
              endPoint: 'https://example.com/herald/webhook',
              resourceFilter: 'urn:altinn:resource:dodsbo.domstoladmin.api',
              filters: [
                { prefix: { type: 'no.altinn.events.digitalt-dodsbo.' } },
                { not: { exact: { subject: '/party/50015641' } } },
                { any: [{ suffix: { type: '.opprettet' } }, { sql: "EXISTS priority AND INT(priority) >= 2" }] },
              ],
            },
          },
          pull: {
            summary: 'Queue the events of one source tree for pulling',
            value: {
              sourceFilter: 'https://api.domstol.no/dodsbo-api/v1/dodsbo',
              resourceFilter: 'urn:altinn:resource:dodsbo.domstoladmin.api',
            },
          },
          backfill: {
            summary: 'Queue one type of event for pulling, starting with those stored since a time',
            value: {
              resourceFilter: 'urn:altinn:resource:dodsbo.domstoladmin.api',
              typeFilter: 'no.altinn.events.digitalt-dodsbo.opprettet',
              startFrom: '2020-02-20T08:00:00Z',
            },
          },
        },
      },
    },
    documentedResponses: {
      201: {
        ...subscriptionAnswer('The subscription, with its signing `secret` (shown only now).'),
        headers: { location: { type: 'string', description: 'The URL of the subscription.' } },
      },
    },
    problems: [409],
  },
  remove: {
    summary: 'Delete a subscription',
    description: 'A subscription an operator disabled stays until an operator enables it: `409`.',
    tags: ['Subscriptions'],
    operationId: 'deleteSubscription',
    documentedResponses: { 200: { description: 'Deleted: nothing more is delivered or queued for it.' } },
    problems: [409],
  },
  validate: {
    summary: 'Validate the endpoint again',
    description:
      'Sends a push subscription a new validation event; a 2xx answer from the endpoint activates it. ' +
      'One its endpoint disabled (410 Gone) can be validated again; one an operator disabled cannot: `409`, as is ' +
      'a pull subscription (`events:pushOnly`), which has no endpoint.',
    tags: ['Subscriptions'],
    operationId: 'validateSubscription',
    documentedResponses: { 202: subscriptionAnswer('The handshake is queued.') },
    problems: [400, 409],
  },
};

/** `/subscriptions`: create, delete and re-validate a caller's own subscriptions (listing and reading: read.ts). */
export async function subscriptionRoutes(app: FastifyInstance, options: SubscriptionRoutesOptions): Promise<void> {
  const { store } = options;
  const clock = options.clock ?? Date.now;
  const replayLimits = { ...defaultReplayLimits, ...options.replayLimits };
  const guarded = { config: { scopes: [scopes.subscribe] } };

  app.post(subscriptionsPath, { ...guarded, schema: docs.create }, async (request, reply) => {
    const caller = callerOf(request);
    const parsed = parseSubscriptionRequest(request.body, {
      allowHttp: options.allowPrivateEndpoints,
      // Without an endpoint a subscription is pull: its events queue for GET /subscriptions/{id}/events.
      allowPull: true,
    });
    if (!parsed.ok) throw invalid('invalidRequest', parsed.errors);
    const spec = parsed.value;
    refuseUnauthorizedSubscription(options.authorizer, caller.consumer, spec);
    if (spec.endpoint !== null && !options.allowPrivateEndpoints) {
      const reason = await refuseNonPublicEndpoint(new URL(spec.endpoint));
      if (reason) {
        throw invalid('invalidRequest', [
          { field: 'endPoint', message: subscriptionMessages.invalidEndpoint },
          { field: 'endPoint', message: reason },
        ]);
      }
    }
    const identity = subscriptionIdentity(caller.consumer, spec);
    const carriedOver = await carriedOverSubscription(store, caller.consumer, spec);
    if (carriedOver) {
      refuseIfOperatorDisabled(carriedOver);
      return reply
        .code(201)
        .header('location', `${subscriptionsPath}/${carriedOver.id}`)
        .send(presentSubscription(carriedOver, { withSecret: true }));
    }
    const cap = options.maxPerConsumer ?? defaultMaxSubscriptionsPerConsumer;
    if ((await store.subscriptions.countByConsumer(caller.consumer)) >= cap) {
      // At the cap, asking again for one it already has still answers with it.
      const existing = await store.subscriptions.findByIdentity(identity);
      if (!existing) {
        throw new HttpProblem('subscriptionLimit', `A consumer may have at most ${cap} subscriptions; delete some first.`);
      }
    }
    // `startFrom` starts a new subscription in the past; asking again for one that exists answers with it as it is.
    const startFrom = startFromIn(request.body);
    const backfill =
      startFrom !== undefined && (await store.subscriptions.findByIdentity(identity)) === undefined
        ? await planBackfill(store, options.authorizer, startFrom, caller.consumer, spec, replayLimits, options.replayCounting)
        : undefined;
    const now = clock();
    const push = spec.endpoint !== null;
    const { subscription, created } = await store.subscriptions.create({
      ...spec,
      identity,
      consumer: caller.consumer,
      createdBy: caller.consumer,
      secret: formatWebhookSecret(randomBytes(32)),
      status: initialSubscriptionStatus[push ? 'push' : 'pull'],
      nextValidationAt: push ? now : null,
      validatedAt: push ? null : now,
      now,
    });
    // The identical subscription, which an operator disabled: asking for it again does not bring it back.
    if (!created) refuseIfOperatorDisabled(subscription);
    if (push) options.wakeDispatcher();
    else await options.refreshMatching(subscription.id);
    const replay = created && backfill ? await startBackfill(store, subscription, backfill, replayLimits, now) : undefined;
    if (replay) options.wakeReplayer?.();
    return reply
      .code(201)
      .header('location', `${subscriptionsPath}/${subscription.id}`)
      .send({ ...presentSubscription(subscription, { withSecret: true }), ...(replay ? { backfill: presentReplay(replay) } : {}) });
  });

  app.delete(`${subscriptionsPath}/:id`, { ...guarded, schema: docs.remove }, async (request, reply) => {
    const subscription = await changeableSubscription(store, request);
    if (!(await store.subscriptions.delete(subscription.id))) await refusedChange(store, subscription.id);
    return reply.code(200).send();
  });

  app.post(`${subscriptionsPath}/:id/validate`, { ...guarded, schema: docs.validate }, async (request, reply) => {
    const subscription = await changeableSubscription(store, request);
    if (!subscription.endpoint) {
      throw new HttpProblem('pushOnly', 'A pull subscription has no endpoint to validate.');
    }
    const pending = await store.subscriptions.requestValidation(subscription.id, clock());
    if (!pending) return refusedChange(store, subscription.id);
    options.wakeDispatcher();
    return reply.code(202).send(presentSubscription(pending));
  });
}

/**
 * The identical subscription this caller made before consumers had namespaces, if it is a `sub`-only caller:
 * an older Herald stored it under the bare `sub`, and its identity (which makes identical requests meet on one
 * row) still hashes that. The carry-over migration moved its consumer to `/sub/…`; this finds it by both, so
 * asking again still answers with it rather than making a second (docs/authentication.md).
 */
async function carriedOverSubscription(
  store: Store,
  consumer: string,
  spec: SubscriptionSpec,
): Promise<SubscriptionRecord | undefined> {
  const parsed = parseConsumer(consumer);
  if (parsed?.namespace !== 'sub') return undefined;
  const found = await store.subscriptions.findByIdentity(subscriptionIdentity(parsed.value, spec));
  // A bare sub written like another namespace's identity stayed with that identity: not this caller's.
  return found?.consumer === consumer ? found : undefined;
}
