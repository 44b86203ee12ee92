// `@herald/client`: Herald's API from TypeScript, for Node 20+ and browsers. Nothing here imports Node's
// modules (tsconfig.browser.json checks it); the receivers for Node's servers are `@herald/client/receivers`.
export { HeraldClient, Filters } from './client.js';
export type { HeraldClientOptions, RetryInfo, TokenSource } from './transport.js';
export { HeraldProblemError, HeraldConnectionError } from './problem.js';
export { type RetryPolicy, defaultRetry } from './retry.js';
export { type PublishOptions, type PublishResult, publishLimits, batchesOf } from './publish.js';
export { type PollOptions, type PollPage, type PollQuery, PollCursorError } from './poll.js';
export type { PullHandler, PullOptions, PullPage, PullSummary } from './pull.js';
export { type CursorStore, memoryCursorStore } from './cursor-store.js';
export { Subscriptions } from './subscriptions.js';
export { Deliveries } from './deliveries.js';
export { Replays } from './replays.js';
export { verifyWebhook, WebhookVerificationError, type VerifiedWebhook, type VerifyOptions, type WebhookHeaders } from './webhook-verify.js';
export {
  boundedSeenIds,
  handshakeType,
  pingType,
  webhookReceiver,
  type SeenWebhookIds,
  type WebhookAnswer,
  type WebhookReceiverOptions,
  type WebhookSecret,
} from './webhook-receiver.js';
export type * from './types.js';
export type { components, operations, paths } from './openapi.js';
