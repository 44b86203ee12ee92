import type { CloudEvent } from './types.js';
import { type VerifiedWebhook, type WebhookHeaders, WebhookVerificationError, verifyWebhook } from './webhook-verify.js';

/** The type of Herald's validation handshake (docs/subscriptions.md): any 2xx makes the subscription active. */
export const handshakeType = 'platform.events.validatesubscription';
/** The type of the test event `POST /subscriptions/{id}/ping` sends. */
export const pingType = 'herald.ping';

/** The `webhook-id`s already handled, for deduplication. Replace the default to share it between processes. */
export interface SeenWebhookIds {
  has(id: string): boolean | Promise<boolean>;
  add(id: string): void | Promise<void>;
}

/** Remembers the last `capacity` ids in memory (default 10,000), forgetting the oldest first. */
export function boundedSeenIds(capacity = 10_000): SeenWebhookIds {
  const ids = new Set<string>();
  return {
    has: (id) => ids.has(id),
    add(id) {
      ids.delete(id);
      ids.add(id);
      // A Set iterates in insertion order: the first is the oldest.
      while (ids.size > capacity) ids.delete(ids.values().next().value as string);
    },
  };
}

export interface WebhookReceiverOptions {
  /**
   * The subscription's `whsec_` secret; during a rotation, both the old and the new. A function is asked on
   * every request, so a secret can be loaded (or rotated) while the receiver runs.
   */
  readonly secret: WebhookSecret | (() => WebhookSecret | Promise<WebhookSecret>);
  /** Handles one event. A throw answers 500, and Herald retries the delivery later. */
  readonly onEvent: (event: CloudEvent, delivery: VerifiedWebhook) => void | Promise<void>;
  /** Told of the validation handshake (already answered 2xx for you). */
  readonly onHandshake?: (event: CloudEvent) => void | Promise<void>;
  /** Handles the test event of a ping; by default it is answered 2xx and not passed to `onEvent`. */
  readonly onPing?: (event: CloudEvent) => void | Promise<void>;
  /** Where handled ids are kept: a bounded set in memory by default; `false` to pass repeats through. */
  readonly seen?: SeenWebhookIds | false;
  /** Seconds the signature's timestamp may be from now (default 300). */
  readonly toleranceSeconds?: number;
  /** The largest body read, in bytes (default 2 MiB): a larger one is answered 413. */
  readonly maxBodyBytes?: number;
  /** Told of every refused request (bad signature, not JSON), e.g. to log it. */
  readonly onRefused?: (reason: Error) => void;
}

export type WebhookSecret = string | readonly string[];

/** What to answer Herald. */
export interface WebhookAnswer {
  readonly status: number;
  readonly body?: string;
}

export const defaultMaxBodyBytes = 2 * 1024 * 1024;

/**
 * The heart of every receiver, framework-free: verifies the raw bytes, answers the handshake, skips a
 * `webhook-id` already handled, and hands each new event to `onEvent`. An id counts as handled only once
 * `onEvent` succeeded, so a failure is retried by Herald; a repeat that arrives while the first is still being
 * handled waits for it and gets the same answer.
 * @example
 * const receive = webhookReceiver({ secret, onEvent: (event) => console.log(event.type) });
 * const answer = await receive(new Uint8Array(await request.arrayBuffer()), request.headers);
 */
export function webhookReceiver(options: WebhookReceiverOptions): (rawBody: Uint8Array, headers: WebhookHeaders) => Promise<WebhookAnswer> {
  const seen = options.seen === false ? undefined : (options.seen ?? boundedSeenIds());
  const inFlight = new Map<string, Promise<WebhookAnswer>>();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const refuse = (status: number, error: Error): WebhookAnswer => {
    options.onRefused?.(error);
    return { status, body: error.message };
  };

  return async (rawBody, headers) => {
    let delivery: VerifiedWebhook;
    try {
      const secret = typeof options.secret === 'function' ? await options.secret() : options.secret;
      delivery = await verifyWebhook(rawBody, headers, secret, { toleranceSeconds: options.toleranceSeconds });
    } catch (error) {
      if (error instanceof WebhookVerificationError) return refuse(401, error);
      throw error;
    }
    let event: CloudEvent;
    try {
      event = JSON.parse(decoder.decode(rawBody)) as CloudEvent;
    } catch {
      return refuse(400, new Error('The body is not a JSON CloudEvent.'));
    }
    if (event.type === handshakeType) {
      await options.onHandshake?.(event);
      return { status: 200 };
    }
    if (event.type === pingType && !options.onPing) return { status: 200 };
    const running = inFlight.get(delivery.id);
    if (running) return running;
    const handling = (async (): Promise<WebhookAnswer> => {
      if (await seen?.has(delivery.id)) return { status: 200 };
      try {
        await (event.type === pingType && options.onPing ? options.onPing(event) : options.onEvent(event, delivery));
      } catch (error) {
        return { status: 500, body: error instanceof Error ? error.message : 'The handler failed.' };
      }
      await seen?.add(delivery.id);
      return { status: 204 };
    })();
    inFlight.set(delivery.id, handling);
    try {
      return await handling;
    } finally {
      inFlight.delete(delivery.id);
    }
  };
}
