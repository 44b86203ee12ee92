import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requestIdHeader } from '../observability/request-id.js';

/**
 * CORS for the origins an operator lists in HERALD_CORS_ORIGINS (docs/cors.md), so a page served elsewhere
 * can call Herald with a bearer token. No origins, no CORS headers at all: browsers then keep other origins out.
 * No cookies are involved (tokens travel in `Authorization`), so credentials are never allowed.
 */

/** What a browser's script may read of an answer besides the simple headers. */
const exposedHeaders = ['location', 'retry-after', 'link', 'next', 'allow', requestIdHeader];

/** The request headers a page may send: the token, the body's type, binary mode's `ce-` attributes, tracing. */
const allowedHeaderNames = new Set([
  'authorization',
  'content-type',
  'altinn-alternativesubject',
  // A stream's reader resumes with it (docs/poll.md#streaming).
  'last-event-id',
  requestIdHeader,
  'traceparent',
  'tracestate',
]);
const isAllowedHeader = (name: string) => allowedHeaderNames.has(name) || /^ce-[a-z0-9]+$/.test(name);

const allowedMethods = 'GET, HEAD, POST, DELETE';
/** How long a browser may reuse a preflight's answer, in seconds. */
const preflightMaxAge = '600';

/** `*`, or the origins (scheme, host and port, lower case) allowed to call Herald. */
export type CorsOrigins = '*' | readonly string[];

export function installCors(app: FastifyInstance, origins: CorsOrigins): void {
  if (origins !== '*' && origins.length === 0) return;
  const allowed = origins === '*' ? undefined : new Set(origins);
  app.addHook('onRequest', async (request, reply) => {
    // Answers differ by Origin, so a shared cache must keep them apart.
    reply.header('vary', 'Origin');
    const origin = request.headers.origin;
    if (origin === undefined || (allowed && !allowed.has(origin.toLowerCase()))) return;
    reply.header('access-control-allow-origin', allowed ? origin : '*');
    if (!isPreflight(request)) {
      reply.header('access-control-expose-headers', exposedHeaders.join(', '));
      return;
    }
    const asked = String(request.headers['access-control-request-headers'] ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean);
    const headers = [...allowedHeaderNames, ...asked.filter((name) => name.startsWith('ce-') && isAllowedHeader(name))];
    return reply
      .code(204)
      .header('vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers')
      .header('access-control-allow-methods', allowedMethods)
      .header('access-control-allow-headers', [...new Set(headers)].join(', '))
      .header('access-control-max-age', preflightMaxAge)
      .send();
  });
}

/** A browser's question before the real request: OPTIONS naming the method it means to send. */
function isPreflight(request: FastifyRequest): boolean {
  return request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
}

/**
 * Reads HERALD_CORS_ORIGINS: comma-separated origins such as `https://app.example.com`, or `*` for any.
 * @returns the origins, or the problem with them
 * @example parseCorsOrigins('https://a.example, http://localhost:3000') // { origins: ['https://a.example', 'http://localhost:3000'] }
 */
export function parseCorsOrigins(text: string | undefined): { readonly origins: CorsOrigins } | { readonly problem: string } {
  const items = (text ?? '').split(',').map((item) => item.trim()).filter(Boolean);
  if (items.length === 1 && items[0] === '*') return { origins: '*' };
  const bad = items.filter((item) => !isOrigin(item));
  if (bad.length > 0) {
    return {
      problem:
      `HERALD_CORS_ORIGINS must list origins (scheme, host and optional port, no path) separated by commas, ` +
      `such as https://app.example.com,http://localhost:3000, or be * alone; not ${bad.map((b) => `'${b}'`).join(', ')}.`,
    };
  }
  return { origins: items.map((item) => item.toLowerCase()) };
}

function isOrigin(text: string): boolean {
  if (!/^https?:\/\/[^/\s?#]+$/i.test(text)) return false;
  try {
    return new URL(text).origin === text.toLowerCase();
  } catch {
    return false;
  }
}
