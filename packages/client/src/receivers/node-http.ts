import type { IncomingMessage, ServerResponse } from 'node:http';
import { defaultMaxBodyBytes, type WebhookAnswer, type WebhookReceiverOptions, webhookReceiver } from '../webhook-receiver.js';
import { BodyTooLargeError, readRawBody } from './raw-body.js';

/**
 * A `node:http` request listener that receives Herald's deliveries: reads the raw bytes, verifies, answers the
 * handshake, deduplicates on `webhook-id` and calls `onEvent`.
 * @example
 * createServer(nodeWebhookHandler({ secret: process.env.HERALD_SECRET!, onEvent: (event) => save(event) })).listen(8443);
 */
export function nodeWebhookHandler(options: WebhookReceiverOptions): (request: IncomingMessage, response: ServerResponse) => void {
  const receive = webhookReceiver(options);
  const maxBytes = options.maxBodyBytes ?? defaultMaxBodyBytes;
  return (request, response) => {
    void (async () => {
      let answer: WebhookAnswer;
      if (request.method !== 'POST') {
        answer = { status: 405, body: 'Herald delivers with POST.' };
      } else {
        try {
          answer = await receive(await readRawBody(request, maxBytes), request.headers);
        } catch (error) {
          answer = error instanceof BodyTooLargeError ? { status: 413, body: error.message } : { status: 500, body: 'The receiver failed.' };
        }
      }
      send(response, answer);
    })();
  };
}

function send(response: ServerResponse, answer: WebhookAnswer): void {
  if (response.headersSent) return;
  response.writeHead(answer.status, answer.body ? { 'content-type': 'text/plain; charset=utf-8' } : {});
  response.end(answer.body);
}
