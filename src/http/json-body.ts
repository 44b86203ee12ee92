import type { FastifyInstance } from 'fastify';
import { loneSurrogatePath } from '../domain/unicode-text.js';
import { invalid } from './problems.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Makes `application/json` the only body an app (or a plugin scope) reads. A body that is not JSON is refused
 * naming `body` in `errors`; any other media type is a 415. An empty body is allowed, since Altinn's clients
 * send `Content-Type: application/json` on bodyless requests (an empty POST, a DELETE).
 *
 * Text that cannot be stored faithfully is refused, as publishing does: a body that is not valid UTF-8 (read
 * leniently it would hold U+FFFD where the client sent other bytes), and a string or key holding an unpaired
 * surrogate (the JSON escape `\ud800` alone), which the database would store as U+FFFD.
 */
export function readJsonBodiesOnly(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length === 0) return done(null, undefined);
    let text: string;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      return done(invalid('invalidRequest', [{ field: 'body', message: 'The request body is not valid UTF-8.' }]));
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return done(invalid('invalidRequest', [{ field: 'body', message: `The request body is not valid JSON: ${(error as Error).message}` }]));
    }
    // Only an escape can put a surrogate into strictly decoded text, so bodies without one skip the walk.
    const unpaired = text.includes('\\u') ? loneSurrogatePath(value) : undefined;
    if (unpaired !== undefined) {
      const field = unpaired || 'body';
      return done(
        invalid('invalidRequest', [
          {
            field,
            message: `'${field}' holds an unpaired surrogate (such as the JSON escape \\ud800 without its pair), which is not Unicode text and cannot be stored.`,
          },
        ]),
      );
    }
    done(null, value);
  });
}
