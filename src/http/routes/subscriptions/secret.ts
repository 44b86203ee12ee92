import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { scopes } from '../../../domain/identity.js';
import { parseSecretRotationRequest } from '../../../domain/secret-rotation.js';
import { formatWebhookSecret } from '../../../domain/webhook-signature.js';
import type { HeraldMetrics } from '../../../observability/herald-metrics.js';
import type { Store } from '../../../store/store.js';
import { componentRef } from '../../openapi-components.js';
import { HttpProblem, invalid } from '../../problems.js';
import { changeableSubscription, refusedChange } from './owned-subscription.js';
import { subscriptionsPath } from './subscriptions.js';

export interface SecretRoutesOptions {
  readonly store: Store;
  /**
   * Reads the subscription again into this process's registry. The answer waits for it, so whatever this process
   * sends after the answer carries the new signature; other processes check the secret version as they lease.
   */
  readonly refreshSubscription: (subscriptionId: number) => Promise<void>;
  readonly clock?: () => number;
  /** Counts rotations (`herald_secret_rotations_total`). */
  readonly metrics?: HeraldMetrics | undefined;
}

const docs = {
  rotate: {
    summary: "Rotate a push subscription's signing secret",
    description:
      'Makes a new `whsec_` signing secret and answers with it: the only time it is shown. Until `graceSeconds` ' +
      '(default 86400, at most 604800) have passed, every delivery carries two signatures in `webhook-signature`, ' +
      'by the new secret and by the one it replaced, so a receiver verifies with either while it changes over; ' +
      'after that only the new one signs. Rotating again during a grace period drops the oldest secret: at most two ' +
      'sign. Deliveries already on their way when the rotation commits may carry the replaced signature only. A pull ' +
      'subscription signs nothing: `409` (`events:pushOnly`). See docs/delivery.md.',
    tags: ['Subscriptions'],
    operationId: 'rotateSubscriptionSecret',
    documentedBody: {
      'application/json': {
        schema: componentRef('SecretRotationRequest'),
        examples: {
          default: { summary: 'Rotate; the old secret still signs for 24 hours', value: {} },
          hour: { summary: 'Rotate; the old secret still signs for an hour', value: { graceSeconds: 3600 } },
          now: { summary: 'Rotate; the old secret stops at once (it leaked)', value: { graceSeconds: 0 } },
        },
      },
    },
    documentedResponses: {
      200: {
        description: 'The new secret (shown only now), and until when the replaced one still signs.',
        content: {
          'application/json': {
            schema: componentRef('SecretRotation'),
            examples: {
              rotated: {
                summary: 'Rotated with the default grace period',
                value: {
                  subscriptionId: 12,
                  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwJwZDmQ3p4Hk=',
                  previousSecretExpires: '2025-05-02T12:00:00.000Z',
                },
              },
            },
          },
        },
      },
    },
    problems: [400, 409],
  },
};

/** `/subscriptions/{id}/secret/rotate` (docs/delivery.md, "Rotating the signing secret"). */
export async function secretRoutes(app: FastifyInstance, options: SecretRoutesOptions): Promise<void> {
  const { store } = options;
  const clock = options.clock ?? Date.now;
  const guarded = { config: { scopes: [scopes.subscribe] } };

  app.post(`${subscriptionsPath}/:id/secret/rotate`, { ...guarded, schema: docs.rotate }, async (request, reply) => {
    const subscription = await changeableSubscription(store, request);
    if (!subscription.endpoint) {
      throw new HttpProblem('pushOnly', 'A pull subscription has no endpoint and signs nothing: it has no secret to rotate.');
    }
    const parsed = parseSecretRotationRequest(request.body);
    if (!parsed.ok) throw invalid('invalidRequest', parsed.errors);
    const now = clock();
    const rotated = await store.subscriptions.rotateSecret(subscription.id, formatWebhookSecret(randomBytes(32)), now, parsed.value.graceMs);
    if (!rotated) return refusedChange(store, subscription.id);
    options.metrics?.secretRotated();
    await options.refreshSubscription(rotated.id);
    // Never logged: the answer's body is not, and the secret goes nowhere else.
    return reply.code(200).header('cache-control', 'no-store').send({
      subscriptionId: rotated.id,
      secret: rotated.secret,
      ...(rotated.previousSecretUntil === null ? {} : { previousSecretExpires: new Date(rotated.previousSecretUntil).toISOString() }),
    });
  });
}
