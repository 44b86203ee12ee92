import type { FastifyInstance } from 'fastify';
import { ConsumerRateLimiter } from '../domain/rate-limit.js';
import { HttpProblem } from './problems.js';

/** Per-consumer limits, per process: events published per second, and reads (polls, pulls, replays) per second. */
export interface RateLimits {
  /** 0 turns the limit off. */
  readonly publishPerSecond: number;
  readonly readPerSecond: number;
}

/**
 * The routes that read events, by method and route pattern: a replay request reads a range of the log. Opening
 * an event stream counts as one read; what it reads while open is bounded by the streams a consumer may hold
 * (docs/poll.md#streaming), not by this rate.
 */
const readRoutes = new Set([
  'GET /events/api/v1/events',
  'GET /events/api/v1/events/stream',
  'GET /events/api/v1/subscriptions/:id/events',
  'POST /events/api/v1/subscriptions/:id/replay',
]);

export function tooManyRequests(waitMs: number, what: string): HttpProblem {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new HttpProblem('tooManyRequests', `Too many ${what} from this consumer: retry in ${seconds} s.`, {
    headers: { 'retry-after': String(seconds) },
  });
}

/**
 * Limits how often one consumer may read. Publishing is limited by events, not requests, so the publish route
 * charges its limiter itself once it knows how many events a request carries.
 * @returns the publish limiter, or `undefined` when publishing is not limited
 */
export function installRateLimits(app: FastifyInstance, limits: RateLimits | undefined): ConsumerRateLimiter | undefined {
  if (limits && limits.readPerSecond > 0) {
    const reads = new ConsumerRateLimiter(limits.readPerSecond);
    app.addHook('preHandler', async (request) => {
      const principal = request.principal;
      if (!principal || !readRoutes.has(`${request.method} ${request.routeOptions.url}`)) return;
      const wait = reads.take(principal.consumer, 1, Date.now());
      if (wait > 0) throw tooManyRequests(wait, 'reads');
    });
  }
  return limits && limits.publishPerSecond > 0 ? new ConsumerRateLimiter(limits.publishPerSecond) : undefined;
}
