import type { FastifyInstance, FastifyRequest } from 'fastify';
import { maxDisableReasonLength, parseDisableRequest } from '../../../domain/disable-request.js';
import { scopes } from '../../../domain/identity.js';
import { disableSubscription, enableSubscription } from '../../../store/operator-decisions.js';
import type { Store } from '../../../store/store.js';
import { componentRef } from '../../openapi-components.js';
import { HttpProblem, invalid } from '../../problems.js';
import { presentCounted } from './read.js';
import { subscriptionsPath } from './subscriptions.js';

export interface OperatorActionRoutesOptions {
  readonly store: Store;
  /** Tells the dispatcher work is due: an enabled push subscription's handshake. */
  readonly wakeDispatcher: () => void;
  /** Rebuilds this process's match index for the subscription at once (other processes hear of it). */
  readonly refreshMatching: (subscriptionId: number) => Promise<void>;
  readonly clock?: (() => number) | undefined;
}

const answer = (description: string) => ({
  description,
  content: { 'application/json': { schema: componentRef('Subscription') } },
});

const docs = {
  disable: {
    summary: 'Disable a subscription (operators)',
    description:
      'Stops queueing and sending events to any consumer\'s subscription, as `herald subscriptions disable` does: from then ' +
      "on only an operator changes it, and its owner's changes are answered `409` with the reason (docs/operators.md). " +
      'Disabling one an operator already disabled leaves it, and its first reason, as it is.',
    tags: ['Operators'],
    operationId: 'disableSubscription',
    documentedBody: {
      'application/json': {
        schema: {
          type: 'object',
          additionalProperties: false,
          properties: {
            reason: {
              type: 'string',
              minLength: 1,
              maxLength: maxDisableReasonLength,
              description: "Why, for its owner: shown as the subscription's `lastError` and in the 409s they get.",
            },
          },
        },
        examples: {
          reason: { summary: 'With a reason for the owner', value: { reason: 'Endpoint under review: contact the operators.' } },
          none: { summary: 'Without one ("Disabled by an operator.")', value: {} },
        },
      },
    },
    documentedResponses: { 200: answer('The subscription as `GET /subscriptions/{id}` shows it.') },
  },
  enable: {
    summary: 'Enable a subscription (operators)',
    description:
      'Lets a subscription receive again, as `herald subscriptions enable` does: a push subscription runs the validation ' +
      'handshake first (an active one stays active meanwhile), a pull subscription is active at once.',
    tags: ['Operators'],
    operationId: 'enableSubscription',
    documentedResponses: { 200: answer('The subscription as `GET /subscriptions/{id}` shows it.') },
  },
};

/**
 * `POST /subscriptions/{id}/disable|enable`: an operator's decisions on anyone's subscription, through the logic
 * `herald subscriptions disable|enable` uses (store/operator-decisions.ts). Anyone without the operator scope is
 * refused before the id is looked at, so the answer tells nothing of it.
 */
export async function operatorActionRoutes(app: FastifyInstance, options: OperatorActionRoutesOptions): Promise<void> {
  const { store } = options;
  const clock = options.clock ?? Date.now;
  const operatorsOnly = { config: { scopes: [scopes.operator] } };

  app.post(`${subscriptionsPath}/:id/disable`, { ...operatorsOnly, schema: docs.disable }, async (request) => {
    const id = subscriptionIdOf(request);
    const parsed = parseDisableRequest(request.body);
    if (!parsed.ok) throw invalid('invalidRequest', parsed.errors);
    const outcome = await disableSubscription(store, id, parsed.value.reason);
    if (outcome.kind === 'notFound') throw noSuchSubscription(id);
    await options.refreshMatching(id);
    return presentCounted(store, outcome.subscription);
  });

  app.post(`${subscriptionsPath}/:id/enable`, { ...operatorsOnly, schema: docs.enable }, async (request) => {
    const id = subscriptionIdOf(request);
    refuseBody(request.body);
    const outcome = await enableSubscription(store, id, clock());
    if (outcome.kind === 'notFound') throw noSuchSubscription(id);
    await options.refreshMatching(id);
    if (outcome.subscription.endpoint !== null) options.wakeDispatcher();
    return presentCounted(store, outcome.subscription);
  });
}

/** The `{id}` of the path; one that cannot be an id is a 404, as it is for the owner's routes. */
function subscriptionIdOf(request: FastifyRequest): number {
  const raw = (request.params as { id?: string }).id ?? '';
  const id = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(id)) throw new HttpProblem('notFound', `No subscription with id '${raw.slice(0, 40)}'.`);
  return id;
}

/** Enable takes nothing: a body with fields is refused rather than ignored (`{}` and no body are the same). */
function refuseBody(body: unknown): void {
  if (body === undefined || body === null) return;
  if (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0) return;
  throw invalid('invalidRequest', [{ field: 'body', message: 'An enable takes no body (or an empty object).' }]);
}

function noSuchSubscription(id: number): HttpProblem {
  return new HttpProblem('notFound', `No subscription with id '${id}'.`);
}
