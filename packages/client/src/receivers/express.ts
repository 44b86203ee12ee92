import type { RequestHandler } from 'express';
import { defaultMaxBodyBytes, type WebhookReceiverOptions, webhookReceiver } from '../webhook-receiver.js';
import { BodyTooLargeError, readRawBody } from './raw-body.js';

/**
 * An Express handler that receives Herald's deliveries. Mount it before any JSON body parser, or behind
 * `express.raw({ type: '*\/*' })`: it needs the bytes as Herald sent them. A body some other parser already
 * turned into an object cannot be verified and is answered 500 with the reason.
 * @example
 * app.post('/herald', expressWebhookReceiver({ secret, onEvent }));
 */
export function expressWebhookReceiver(options: WebhookReceiverOptions): RequestHandler {
  const receive = webhookReceiver(options);
  const maxBytes = options.maxBodyBytes ?? defaultMaxBodyBytes;
  return (request, response, next) => {
    void (async () => {
      let body: Buffer;
      if (Buffer.isBuffer(request.body)) body = request.body;
      else if (request.readableEnded || (request.body !== undefined && request.body !== null && Object.keys(request.body as object).length > 0)) {
        response
          .status(500)
          .type('text/plain')
          .send('A body parser read this request before the Herald receiver: mount the receiver before express.json(), or use express.raw().');
        return;
      } else {
        try {
          body = await readRawBody(request, maxBytes);
        } catch (error) {
          if (error instanceof BodyTooLargeError) {
            response.status(413).type('text/plain').send(error.message);
            return;
          }
          throw error;
        }
      }
      const answer = await receive(body, request.headers);
      response.status(answer.status).type('text/plain; charset=utf-8').send(answer.body ?? '');
    })().catch(next);
  };
}
