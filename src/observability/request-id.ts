import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

/** The header a request id arrives and leaves in. */
export const requestIdHeader = 'x-request-id';

/**
 * What an incoming request id may look like to be kept: short, and only characters that are safe in a log
 * line, a header and a JSON string. Anything else (newlines, quotes, 10 KiB of text) is replaced.
 */
const safeRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request's id: the caller's `X-Request-Id` when it is safe to repeat (so a proxy's or client's id
 * follows the request through Herald's logs), otherwise a fresh UUID.
 * @example requestIdOf({ headers: { 'x-request-id': 'abc-123' } }) // 'abc-123'
 */
export function requestIdOf(request: Pick<IncomingMessage, 'headers'>): string {
  const given = request.headers[requestIdHeader];
  return typeof given === 'string' && safeRequestId.test(given) ? given : randomUUID();
}

/**
 * Echoes the request id in every answer's `X-Request-Id`, so a caller can quote it; problem details carry the
 * same id as `traceId`. Install it first: a hook that refuses a request (authentication) must find it set.
 */
export function installRequestIdEcho(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header(requestIdHeader, request.id);
  });
}
