import type { FastifyInstance } from 'fastify';
import { invalid } from './problems.js';

/**
 * Makes `application/json` the only body an app (or a plugin scope) reads. A body that is not JSON is refused
 * naming `body` in `errors`; any other media type is a 415. An empty body is allowed, since Altinn's clients
 * send `Content-Type: application/json` on bodyless requests (an empty POST, a DELETE).
 */
export function readJsonBodiesOnly(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      done(invalid('invalidRequest', [{ field: 'body', message: `The request body is not valid JSON: ${(error as Error).message}` }]));
    }
  });
}
