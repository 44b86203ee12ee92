import { exampleEvent } from '../events/publish.js';
import type { FastifyInstance } from 'fastify';
import { readableOf, passingOf, scopeOfSubscription } from '../../../delivery/replay-selection.js';
import { filterTestLimits, parseFilterTestRequest } from '../../../domain/filter-test-request.js';
import { scopes } from '../../../domain/identity.js';
import type { Authorizer } from '../../../domain/policy.js';
import type { Store } from '../../../store/store.js';
import { callerOf } from '../../auth/authenticate.js';
import { componentRef } from '../../openapi-components.js';
import { invalid } from '../../problems.js';
import { tooManyRequests } from '../../rate-limits.js';
import { refuseUnauthorizedSubscription } from '../subscriptions/subscribe-permission.js';

export const filtersTestPath = '/events/api/v1/filters/test';

/** Log rows one read of a test examines: a few hundred events with their payloads at a time. */
const pieceRows = 500;

export interface FilterTestRouteOptions {
  readonly store: Store;
  readonly authorizer: Authorizer;
  /** Plain http endpoints allowed, as creating a subscription allows them (the test checks the body as creation would). */
  readonly allowPrivateEndpoints: boolean;
}

const docs = {
  summary: "Try a subscription's filters on the newest events",
  description:
    'Takes a subscription request (Altinn filters and/or `filters`) and `sample`, and answers how many of the ' +
    `newest \`sample\` events of the log (1 to ${filterTestLimits.maxSample}, default ${filterTestLimits.defaultSample}) ` +
    'the caller may read and the subscription would match, with the first ' +
    `${filterTestLimits.shown} of them in log order. Nothing is created. A body that creating the subscription would ` +
    'refuse is refused the same way. One test at a time per consumer. See docs/filters.md.',
  tags: ['Filters'],
  operationId: 'testFilters',
  documentedBody: {
    'application/json': {
      schema: componentRef('FilterTestRequest'),
      examples: {
        dialects: {
          summary: "One resource's events of two types, for one party's subjects",
          value: {
            resourceFilter: 'urn:altinn:resource:dodsbo.domstoladmin.api',
            filters: [
              { any: [{ exact: { type: 'no.altinn.events.digitalt-dodsbo.opprettet' } }, { suffix: { type: '.avsluttet' } }] },
              { prefix: { subject: '/party/5001' } },
            ],
            sample: 5000,
          },
        },
        sql: {
          summary: 'A CESQL expression over an extension, on the newest 1,000 events',
          value: {
            sourceFilter: 'https://api.domstol.no/dodsbo-api/v1/dodsbo',
            filters: [{ sql: "EXISTS priority AND INT(priority) >= 2 AND type LIKE 'no.altinn.events.%'" }],
          },
        },
      },
    },
  },
  documentedResponses: {
    200: {
      description: 'How many of the sample match, and the first page of them.',
      content: {
        'application/json': {
          schema: componentRef('FilterTest'),
          examples: {
            matches: {
              summary: 'Two of the newest 5,000 events match',
              value: {
                sample: 5000,
                matched: 2,
                events: [
                  exampleEvent,
                  {
                    specversion: '1.0',
                    id: '0a4f0d3c-7b9e-4f2a-9d35-5c3e2b1a6f70',
                    source: 'https://api.domstol.no/dodsbo-api/v1/dodsbo/0a4f0d3c-7b9e-4f2a-9d35-5c3e2b1a6f70',
                    type: 'no.altinn.events.digitalt-dodsbo.avsluttet',
                    resource: 'urn:altinn:resource:dodsbo.domstoladmin.api',
                    subject: '/party/50015642',
                  },
                ],
              },
            },
          },
        },
      },
    },
  },
  problems: [403, 429],
} as const;

/**
 * `POST /filters/test`: what a subscription with these filters would have received of the newest events
 * (docs/filters.md#trying-a-subscriptions-filters). The same selection a replay makes (replay-selection.ts),
 * through the store's bounded log reads: never more than `sample` rows, in pieces, on SQLite's reader threads.
 */
export async function filterTestRoute(app: FastifyInstance, options: FilterTestRouteOptions): Promise<void> {
  const { store, authorizer } = options;
  const testing = new Set<string>();
  app.post(filtersTestPath, { config: { scopes: [scopes.subscribe] }, schema: docs }, async (request, reply) => {
    const { consumer } = callerOf(request);
    const parsed = parseFilterTestRequest(request.body, { allowHttp: options.allowPrivateEndpoints, allowPull: true });
    if (!parsed.ok) throw invalid('invalidRequest', parsed.errors);
    const { spec, sample } = parsed.value;
    refuseUnauthorizedSubscription(authorizer, consumer, spec);
    // A test may read thousands of events with their payloads: one at a time per consumer.
    if (testing.has(consumer)) throw tooManyRequests(1_000, 'filter tests at once');
    testing.add(consumer);
    try {
      const scope = scopeOfSubscription(consumer, spec);
      const head = await store.headPosition();
      let position = await store.events.beforeNewest(sample, head);
      let matched = 0;
      const events: unknown[] = [];
      while (position < head) {
        const piece = await store.events.readRange(scope.filter, position, head, pieceRows, pieceRows, true);
        for (const event of readableOf(authorizer, consumer, passingOf(scope, piece.events))) {
          matched += 1;
          if (events.length < filterTestLimits.shown && event.payload !== undefined) events.push(JSON.parse(event.payload));
        }
        position = piece.reached;
      }
      return reply.code(200).send({ sample, matched, events });
    } finally {
      testing.delete(consumer);
    }
  });
}
