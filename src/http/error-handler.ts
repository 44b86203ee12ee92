import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HeraldMetrics } from '../observability/herald-metrics.js';
import { requestIdHeader } from '../observability/request-id.js';
import { isRefusedByStore, isStoreUnavailable } from '../store/store-errors.js';
import { HttpProblem, type ProblemKind, problemBody } from './problems.js';
import { RouteMethods } from './route-methods.js';
import { heraldFieldErrors } from './validation-messages.js';

/** Fastify's own errors, by code, as problems. */
const fastifyErrorKinds: Record<string, ProblemKind> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payloadTooLarge',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupportedMediaType',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalidRequest',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalidRequest',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalidRequest',
};

const kindsByStatus: Record<number, ProblemKind> = {
  404: 'notFound',
  405: 'methodNotAllowed',
  413: 'payloadTooLarge',
  415: 'unsupportedMediaType',
};

/**
 * Every error leaves Herald as problem details (`application/problem+json`). Client errors explain themselves;
 * anything unexpected is logged and answered 500 without internals.
 */
export function installErrorHandler(app: FastifyInstance, metrics?: HeraldMetrics): void {
  app.setErrorHandler((error: FastifyError | HttpProblem, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof HttpProblem) {
      for (const [name, value] of Object.entries(error.extras.headers ?? {})) reply.header(name, value);
      return sendProblem(reply, error.kind, error.detail, request.id, error.extras.errors, error.extras.members);
    }
    if (error.validation) {
      const errors = heraldFieldErrors(error.validation, error.validationContext ?? 'body');
      return sendProblem(
        reply,
        error.validationContext === 'querystring' ? 'invalidQuery' : 'invalidRequest',
        errors[0]?.message ?? 'Invalid request.',
        request.id,
        errors,
      );
    }
    const status = error.statusCode ?? 500;
    const kind = fastifyErrorKinds[error.code] ?? kindsByStatus[status];
    if (kind) return sendProblem(reply, kind, error.message, request.id);
    if (status >= 400 && status < 500) return sendProblem(reply, 'invalidRequest', error.message, request.id);
    metrics?.storeFailed(error, 'request');
    if (isRefusedByStore(error)) {
      // The request's own content: permanent, so not a 503 a client would retry forever. The database's
      // message names tables and indexes, so it stays in the log.
      request.log.warn({ err: error }, 'store refused the request');
      return sendProblem(reply, 'contentNotStorable', contentNotStorableDetail(), request.id);
    }
    if (isStoreUnavailable(error)) {
      request.log.warn({ err: error }, 'store unavailable');
      reply.header('retry-after', '1');
      return sendProblem(reply, 'storeUnavailable', 'The event store is not answering. Retry shortly.', request.id);
    }
    request.log.error({ err: error }, 'request failed');
    return sendProblem(
      reply,
      'internalError',
      'Herald could not complete the request. It has been logged.',
      request.id,
    );
  });

  const methods = new RouteMethods();
  app.addHook('onRoute', (route) => methods.add(route.method, route.url ?? route.path));
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = methods.of(path);
    if (allowed.length > 0) {
      // A path Herald knows, asked with a method it does not take (`PUT /events`).
      reply.header('allow', allowed.join(', '));
      return sendProblem(
        reply,
        'methodNotAllowed',
        `${path} does not take ${request.method}; it takes ${allowed.join(', ')}.`,
        request.id,
      );
    }
    return sendProblem(reply, 'notFound', `There is no ${request.method} ${path} here.`, request.id);
  });
}

/** The detail of `contentNotStorable`: what the client can do, without the database's internals. */
export function contentNotStorableDetail(what = 'this request'): string {
  return (
    `The store refused a value in ${what} (too large for its index, or not valid for its column). ` +
    'Sending it again unchanged will be refused again.'
  );
}

export function sendProblem(
  reply: FastifyReply,
  kind: ProblemKind,
  detail: string,
  traceId: string,
  errors?: Parameters<typeof problemBody>[3],
  members?: Parameters<typeof problemBody>[4],
) {
  const body = problemBody(kind, detail, traceId, errors, members);
  return reply
    .header(requestIdHeader, traceId)
    .code(body.status as number)
    .type('application/problem+json; charset=utf-8')
    .send(body);
}
