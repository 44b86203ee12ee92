import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ReplayScope, scopeOfSubscription } from '../../../delivery/replay-selection.js';
import { scopes } from '../../../domain/identity.js';
import type { Authorizer } from '../../../domain/policy.js';
import { defaultReplayLimits, type ReplayLimits } from '../../../domain/replay.js';
import { parseReplayRequest } from '../../../domain/replay-request.js';
import type { SubscriptionRecord } from '../../../store/records.js';
import type { Store } from '../../../store/store.js';
import { componentRef } from '../../openapi-components.js';
import { HttpProblem, invalid } from '../../problems.js';
import { planReplay, type ReplayCounting } from '../../replay-plan.js';
import { changeableSubscription, ownedSubscription } from './owned-subscription.js';
import { refuseIfDisabled, refuseOverLimits } from './replay-guards.js';
import { presentReplay } from './present.js';
import { subscriptionsPath } from './subscriptions.js';

export interface ReplayRoutesOptions {
  readonly store: Store;
  readonly authorizer: Authorizer;
  /** Tells the replay loop a replay is waiting to be enqueued. */
  readonly wakeReplayer: () => void;
  readonly limits?: Partial<ReplayLimits> | undefined;
  /** One count at a time per consumer (shared with the subscription routes' backfills). */
  readonly counting: ReplayCounting;
  readonly clock?: () => number;
}

/** Replays a subscription's list shows: the newest. */
const listedReplays = 100;

const replayAnswer = (description: string) => ({
  description,
  content: { 'application/json': { schema: componentRef('Replay') } },
});

const docs = {
  replay: {
    summary: "Replay a subscription's events",
    description:
      "Sends the subscription again the events of a range of the log that its filters match and its owner may " +
      'read now: from `from` (a time) or `after` (an event id or a position) up to `until` or, by default, the ' +
      'log as it stands at the request. Each event goes as a new delivery (a new `webhook-id`; the event\'s own ' +
      '`id` and `source` are unchanged), or into a pull subscription\'s queue, in log order. To an ordered ' +
      "subscription each key's deliveries go one at a time, the replayed ones behind what the key still had " +
      'waiting (docs/ordering.md). `dryRun` only counts. See docs/replay.md.',
    tags: ['Replays'],
    operationId: 'replaySubscription',
    documentedBody: {
      'application/json': {
        schema: componentRef('ReplayRequest'),
        examples: {
          dryRun: {
            summary: 'Count what a replay of the last outage would send',
            value: { from: '2020-02-20T08:00:00Z', until: '2020-02-20T09:00:00Z', dryRun: true },
          },
          fromTime: { summary: 'Replay everything stored since a time', value: { from: '2020-02-20T08:00:00Z' } },
          afterEvent: {
            summary: 'Replay everything after an event, up to a time, counting only',
            value: { after: '0', until: '2030-01-01T00:00:00Z', dryRun: true },
          },
        },
      },
    },
    documentedResponses: {
      200: {
        description: 'A dry run: how many events a replay would send now.',
        content: {
          'application/json': {
            schema: { type: 'object', required: ['events'], properties: { events: { type: 'integer' } } },
          },
        },
      },
      202: {
        ...replayAnswer('The replay, enqueued in the background; follow its progress at `Location`.'),
        headers: { location: { type: 'string', description: 'The URL of the replay.' } },
      },
    },
    problems: [409, 429],
  },
  list: {
    summary: "List a subscription's replays",
    description: `The newest ${listedReplays}, newest first; finished ones are kept for HERALD_DELIVERY_RETENTION.`,
    tags: ['Replays'],
    operationId: 'listReplays',
    documentedResponses: {
      200: {
        description: 'The replays.',
        content: {
          'application/json': {
            schema: { type: 'object', required: ['replays'], properties: { replays: { type: 'array', items: componentRef('Replay') } } },
          },
        },
      },
    },
  },
  read: {
    summary: 'Get a replay',
    tags: ['Replays'],
    operationId: 'getReplay',
    documentedResponses: { 200: replayAnswer('The replay and its progress.') },
  },
  cancel: {
    summary: 'Cancel a replay',
    description:
      'Stops a replay in progress: nothing more of it is enqueued. What it enqueued already is still delivered. ' +
      'Cancelling a finished replay changes nothing.',
    tags: ['Replays'],
    operationId: 'cancelReplay',
    documentedResponses: { 200: replayAnswer('The replay as it now stands.') },
  },
};

/** `/subscriptions/{id}/replay` and `/subscriptions/{id}/replays[/{replayId}]` (docs/replay.md). */
export async function replayRoutes(app: FastifyInstance, options: ReplayRoutesOptions): Promise<void> {
  const { store, authorizer } = options;
  const clock = options.clock ?? Date.now;
  const limits = { ...defaultReplayLimits, ...options.limits };
  const guarded = { config: { scopes: [scopes.subscribe] } };
  const replayPath = (subscriptionId: number, replayId: number) => `${subscriptionsPath}/${subscriptionId}/replays/${replayId}`;

  app.post(`${subscriptionsPath}/:id/replay`, { ...guarded, schema: docs.replay }, async (request, reply) => {
    const subscription = await changeableSubscription(store, request);
    refuseIfDisabled(subscription);
    const parsed = parseReplayRequest(request.body);
    if (!parsed.ok) throw invalid('invalidRequest', parsed.errors);
    const { start, until, dryRun } = parsed.value;
    // Before the count, which may take a while: a replay that could not start anyway is refused at once.
    if (!dryRun) await refuseOverLimits(store, subscription, limits);
    const plan = await options.counting.exclusively(subscription.consumer, () =>
      planReplay(store, authorizer, scopeOf(subscription), { start, until, field: start.kind === 'time' ? 'from' : 'after' }, limits.examinedRows),
    );
    if (dryRun) return reply.code(200).send({ events: plan.events });
    const replay = await store.replays.create(
      {
        subscriptionId: subscription.id,
        consumer: subscription.consumer,
        status: plan.events === 0 ? 'completed' : 'running',
        fromTime: start.kind === 'time' ? start.at : null,
        afterCursor: start.kind === 'cursor' ? start.text : null,
        untilTime: until ?? null,
        afterSeq: plan.afterSeq,
        throughSeq: plan.throughSeq,
        events: plan.events,
        now: clock(),
      },
      limits,
    );
    if (!replay) {
      // Another request took the last place meanwhile.
      await refuseOverLimits(store, subscription, limits);
      throw new HttpProblem('replayLimit', 'Replays asked for at the same moment took the last place. Try again.');
    }
    options.wakeReplayer();
    return reply.code(202).header('location', replayPath(subscription.id, replay.id)).send(presentReplay(replay));
  });

  app.get(`${subscriptionsPath}/:id/replays`, { ...guarded, schema: docs.list }, async (request) => {
    const subscription = await ownedSubscription(store, request);
    return { replays: (await store.replays.list(subscription.id, listedReplays)).map(presentReplay) };
  });

  app.get(`${subscriptionsPath}/:id/replays/:replayId`, { ...guarded, schema: docs.read }, async (request) => {
    const subscription = await ownedSubscription(store, request);
    const replay = await store.replays.get(subscription.id, replayIdOf(request));
    if (!replay) throw noSuchReplay(request);
    return presentReplay(replay);
  });

  app.delete(`${subscriptionsPath}/:id/replays/:replayId`, { ...guarded, schema: docs.cancel }, async (request) => {
    const subscription = await ownedSubscription(store, request);
    const replay = await store.replays.cancel(subscription.id, replayIdOf(request), clock());
    if (!replay) throw noSuchReplay(request);
    return presentReplay(replay);
  });
}

/** The owner's scope of a subscription: what a replay of it selects. */
export function scopeOf(subscription: SubscriptionRecord): ReplayScope {
  return scopeOfSubscription(subscription.consumer, subscription);
}

function replayIdOf(request: FastifyRequest): number {
  const raw = (request.params as { replayId?: string }).replayId ?? '';
  return /^\d{1,15}$/.test(raw) ? Number(raw) : -1;
}

function noSuchReplay(request: FastifyRequest): HttpProblem {
  const raw = (request.params as { replayId?: string }).replayId ?? '';
  return new HttpProblem('notFound', `This subscription has no replay with id '${raw}'.`);
}
