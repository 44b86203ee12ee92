import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import type { HeraldMetrics } from '../../observability/herald-metrics.js';
import { processMetrics } from '../../observability/process-metrics.js';
import type { Store } from '../../store/store.js';
import { HttpProblem } from '../problems.js';
import { metricsSecurityScheme } from '../openapi.js';

export interface MetricsRouteOptions {
  readonly store: Store;
  readonly metrics: HeraldMetrics;
  /** The bearer token a scrape must carry; unset, `/metrics` is open. */
  readonly token?: string | undefined;
  readonly clock?: () => number;
  /**
   * Renders the answer instead of this process's own metrics: under `herald serve --workers` a worker answers
   * for the whole group (`WorkerGroupMetrics`).
   */
  readonly render?: ((now: number) => Promise<string>) | undefined;
}

/**
 * `GET /metrics`: Prometheus' text format. Outside the API's scopes and rate limits: scrapers hold no JWT,
 * and a scrape must not be refused because a consumer is busy. The labels name no consumer, resource or
 * subject, so an open endpoint leaks no one's data; `HERALD_METRICS_TOKEN` closes it when it is reachable
 * from outside.
 */
export async function metricsRoute(app: FastifyInstance, options: MetricsRouteOptions): Promise<void> {
  const clock = options.clock ?? Date.now;
  const expected = options.token === undefined ? undefined : digest(options.token);

  app.get('/metrics', { schema: metricsDocs }, async (request, reply) => {
    if (expected && !carriesToken(request, expected)) {
      throw new HttpProblem('unauthenticated', 'Send the metrics token in an Authorization: Bearer header.', {
        headers: { 'www-authenticate': 'Bearer realm="metrics"' },
      });
    }
    const text = options.render ? await options.render(clock()) : await thisProcess(options, clock());
    return reply.type(options.metrics.counts.contentType).send(text);
  });
}

async function thisProcess(options: MetricsRouteOptions, now: number): Promise<string> {
  const herald = await options.metrics.scrape(options.store, now);
  return `${herald}\n${await processMetrics().metrics()}`;
}

const metricsDocs: FastifySchema = {
  summary: 'Prometheus metrics',
  description:
    "Prometheus' text format. Open, unless HERALD_METRICS_TOKEN is set: then a scrape sends that token " +
    '(not a JWT) as `Authorization: Bearer`.',
  tags: ['Operations'],
  operationId: 'getMetrics',
  // Open (the empty requirement) unless HERALD_METRICS_TOKEN is set.
  documentedSecurity: [{}, { [metricsSecurityScheme]: [] }],
  documentedResponses: { 200: { description: 'The metrics.', content: { 'text/plain': { schema: { type: 'string' } } } } },
  problems: [401],
};

/** Compares digests, not the tokens: equal lengths for `timingSafeEqual`, and no timing hint of the length. */
function carriesToken(request: FastifyRequest, expected: Buffer): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected);
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
