import type { FastifyInstance } from 'fastify';
import { scopes } from '../../domain/identity.js';
import { heraldWideCountCap } from '../../store/delivery-counts.js';
import type { OverviewSampler } from '../../observability/overview-sampler.js';

export const overviewPath = '/events/api/v1/overview';

export interface OverviewRouteOptions {
  readonly sampler: OverviewSampler;
  /**
   * Only operators may read it: set when HERALD_METRICS_TOKEN closes `/metrics`, whose figures these are
   * (docs/observability.md, "Overview").
   */
  readonly operatorsOnly: boolean;
}

const rate = (description: string) => ({ type: 'number', minimum: 0, description });
const quantile = (description: string) => ({ type: ['number', 'null'], minimum: 0, description });
const count = (description: string) => ({ type: ['integer', 'null'], minimum: 0, description });

const docs = {
  summary: "Herald's overview",
  description:
    "The last hour of Herald's own metrics, one sample per interval, oldest first: what the console charts. Sampled " +
    'in-process, so right after a start the list is empty; under `herald serve --workers` any worker answers with the ' +
    "group's rates. Open to `altinn:events.subscribe` tokens, or " +
    'to operators only when HERALD_METRICS_TOKEN is set (docs/observability.md).',
  tags: ['Operators'],
  operationId: 'getOverview',
  documentedResponses: {
    200: {
      description: 'The samples.',
      content: {
        'application/json': {
          schema: {
            type: 'object',
            required: ['intervalSeconds', 'samples'],
            properties: {
              intervalSeconds: { type: 'number', description: 'Seconds between samples (10).' },
              samples: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['time', 'publishedPerSecond', 'deliveredPerSecond', 'latencyP50Ms', 'latencyP99Ms', 'backlog', 'deadLetters'],
                  properties: {
                    time: { type: 'string', format: 'date-time', description: 'When the interval ended.' },
                    publishedPerSecond: rate('New events stored per second over the interval.'),
                    deliveredPerSecond: rate('Webhook deliveries answered with a 2xx per second over the interval.'),
                    latencyP50Ms: quantile('Median publish-to-delivery latency of the interval\'s deliveries; null when none.'),
                    latencyP99Ms: quantile('99th percentile of the same; null when none.'),
                    backlog: count('Deliveries waiting Herald-wide (to be sent, or queued for pulling); null when the store did not answer.'),
                    deadLetters: count('Dead deliveries Herald-wide; null when the store did not answer.'),
                    countsCapped: {
                      type: 'boolean',
                      const: true,
                      description: `There when a count stopped at ${heraldWideCountCap.toLocaleString('en')}: there are at least that many.`,
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

/** `GET /overview`: the sampler's ring buffer, as it stands. */
export async function overviewRoute(app: FastifyInstance, options: OverviewRouteOptions): Promise<void> {
  const readers = options.operatorsOnly ? [scopes.operator] : [scopes.subscribe, scopes.operator];
  app.get(overviewPath, { config: { scopes: readers }, schema: docs }, async () => ({
    intervalSeconds: options.sampler.intervalMs / 1000,
    samples: options.sampler.samples(),
  }));
}
