import type { Transport } from './transport.js';
import type { Answer, PingResult, SecretRotation, Subscription, SubscriptionPage, SubscriptionRequest } from './types.js';

/** `/subscriptions` (docs/subscriptions.md): the caller's push and pull subscriptions. */
export class Subscriptions {
  constructor(private readonly transport: Transport) {}

  /**
   * Creates a subscription: with an `endPoint` a push subscription (its answer holds the `secret` that signs
   * deliveries, shown only here), without one a pull subscription. Asking again for an identical one answers it.
   */
  create(request: SubscriptionRequest, options: { signal?: AbortSignal } = {}): Promise<Subscription> {
    // Safe to retry: an identical subscription by the same consumer is answered, not created twice.
    return this.transport.json({ method: 'POST', path: '/subscriptions', body: JSON.stringify(request), contentType: 'application/json', idempotent: true, signal: options.signal });
  }

  get(id: number): Promise<Subscription> {
    return this.transport.json({ method: 'GET', path: `/subscriptions/${id}`, idempotent: true });
  }

  /** One page of the caller's subscriptions, oldest first; `next` is there while a full page came back. */
  list(page: { after?: number; size?: number } = {}): Promise<SubscriptionPage> {
    return this.transport.json({ method: 'GET', path: '/subscriptions', query: pageQuery(page), idempotent: true });
  }

  /** Every subscription of the caller, page after page. */
  async *all(size = 100): AsyncGenerator<Subscription, void, undefined> {
    let after = 0;
    for (;;) {
      const page = await this.list({ after, size });
      yield* page.subscriptions;
      const last = page.subscriptions.at(-1);
      if (!page.next || !last) return;
      after = last.id;
    }
  }

  /** Deletes it and its queued deliveries. */
  async delete(id: number): Promise<void> {
    await this.transport.send({ method: 'DELETE', path: `/subscriptions/${id}`, idempotent: true });
  }

  /** Runs the validation handshake again (202): a `2xx` from the endpoint makes it active. */
  async validate(id: number): Promise<void> {
    await this.transport.send({ method: 'POST', path: `/subscriptions/${id}/validate`, idempotent: true });
  }

  /**
   * A new signing secret, shown only in this answer; the replaced one still signs beside it for
   * `graceSeconds` (default 24 h, 0 stops it at once). Not retried on a failed connection: a second rotation
   * would retire the secret the first one made.
   */
  rotateSecret(id: number, options: { graceSeconds?: number } = {}): Promise<SecretRotation> {
    const body = options.graceSeconds === undefined ? undefined : JSON.stringify({ graceSeconds: options.graceSeconds });
    return this.transport.json({ method: 'POST', path: `/subscriptions/${id}/secret/rotate`, body, contentType: body && 'application/json', idempotent: false });
  }

  /** Sends a signed test event to the endpoint now and tells what happened; nothing is stored. */
  ping(id: number): Promise<PingResult> {
    return this.transport.json({ method: 'POST', path: `/subscriptions/${id}/ping`, idempotent: true });
  }
}

export function pageQuery(page: Record<string, string | number | undefined>): URLSearchParams {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(page)) if (value !== undefined) query.set(key, String(value));
  return query;
}

export type { Answer };
