import type { FastifyPluginAsync } from 'fastify';
import { defaultMaxBodyBytes, type WebhookReceiverOptions, webhookReceiver } from '../webhook-receiver.js';

export interface FastifyWebhookOptions extends WebhookReceiverOptions {
  /** The route, within the prefix the plugin is registered under. Default `/`. */
  readonly path?: string;
}

/**
 * A Fastify plugin with one POST route that receives Herald's deliveries. Inside the plugin (and only there:
 * Fastify encapsulates it) every body is read as raw bytes, so the signature is checked over exactly what
 * Herald sent, whatever parsers the rest of the app uses.
 * @example
 * await app.register(fastifyWebhookReceiver({ secret, onEvent }), { prefix: '/herald' });
 */
export function fastifyWebhookReceiver(options: FastifyWebhookOptions): FastifyPluginAsync {
  const receive = webhookReceiver(options);
  const bodyLimit = options.maxBodyBytes ?? defaultMaxBodyBytes;
  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));
    app.post(options.path ?? '/', { bodyLimit }, async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const answer = await receive(body, request.headers);
      return reply.code(answer.status).type('text/plain; charset=utf-8').send(answer.body ?? '');
    });
  };
}
