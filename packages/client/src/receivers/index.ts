// `@herald/client/receivers`: webhook receivers for Node's HTTP servers. The framework-free core
// (`webhookReceiver`, `verifyWebhook`) is in the main entry and works in any runtime with Web Crypto.
export { nodeWebhookHandler } from './node-http.js';
export { fastifyWebhookReceiver, type FastifyWebhookOptions } from './fastify.js';
export { expressWebhookReceiver } from './express.js';
export { readRawBody, BodyTooLargeError } from './raw-body.js';
export {
  boundedSeenIds,
  handshakeType,
  pingType,
  webhookReceiver,
  type SeenWebhookIds,
  type WebhookAnswer,
  type WebhookReceiverOptions,
  type WebhookSecret,
} from '../webhook-receiver.js';
export { verifyWebhook, WebhookVerificationError, type VerifiedWebhook, type WebhookHeaders } from '../webhook-verify.js';
