import { Deliveries } from './deliveries.js';
import { type PollOptions, type PollPage, type PollQuery, pollEvents } from './poll.js';
import { type PublishOptions, type PublishResult, publishEvents } from './publish.js';
import { type PullHandler, type PullOptions, type PullSummary, pullEvents } from './pull.js';
import { Replays } from './replays.js';
import { Subscriptions } from './subscriptions.js';
import { type HeraldClientOptions, Transport } from './transport.js';
import type { CloudEvent, EventToPublish, FilterEvaluation, FilterTest, FilterTestRequest } from './types.js';

/**
 * Herald's API from TypeScript, in Node 20+ and browsers (through `fetch`).
 * @example
 * const herald = new HeraldClient({ baseUrl: 'http://localhost:8080', token: process.env.HERALD_TOKEN });
 * await herald.publish({ source: 'https://shop.example/orders', type: 'order.placed', resource: 'urn:altinn:resource:shop', data: { orderId: 42 } });
 */
export class HeraldClient {
  readonly subscriptions: Subscriptions;
  readonly deliveries: Deliveries;
  readonly replays: Replays;
  readonly filters: Filters;
  private readonly transport: Transport;

  constructor(options: HeraldClientOptions) {
    this.transport = new Transport(options);
    this.subscriptions = new Subscriptions(this.transport);
    this.deliveries = new Deliveries(this.transport);
    this.replays = new Replays(this.transport);
    this.filters = new Filters(this.transport);
  }

  /** Herald's address, as requests use it. */
  get baseUrl(): string {
    return this.transport.baseUrl;
  }

  /**
   * Publishes one event or many (batched by count and bytes), retrying 429 and 503 as Herald asks. Resolves
   * once every event is durably stored; throws `HeraldProblemError` on a refusal (400, 403, 413, …).
   */
  publish(events: EventToPublish | readonly EventToPublish[], options?: PublishOptions): Promise<PublishResult> {
    return publishEvents(this.transport, events, options);
  }

  /** Reads the log page by page, following `next`, saving the position in `options.cursor` (docs/client.md). */
  poll(query: PollQuery, options?: PollOptions): AsyncGenerator<PollPage, void, undefined> {
    return pollEvents(this.transport, query, options);
  }

  /** Drains a pull subscription, acknowledging each page once `handler` succeeded (docs/client.md). */
  pull(subscriptionId: number, handler: PullHandler, options?: PullOptions): Promise<PullSummary> {
    return pullEvents(this.transport, subscriptionId, handler, options);
  }
}

/** Trying CESQL filters before subscribing with them (docs/filters.md). */
export class Filters {
  constructor(private readonly transport: Transport) {}

  /** Evaluates one expression on one event. */
  evaluate(expression: string, event: CloudEvent): Promise<FilterEvaluation> {
    return this.transport.json({ method: 'POST', path: '/filters/evaluate', body: JSON.stringify({ expression, event }), contentType: 'application/json', idempotent: true });
  }

  /** Tries a subscription's filters on the newest events of the log. */
  test(request: Partial<FilterTestRequest>): Promise<FilterTest> {
    return this.transport.json({ method: 'POST', path: '/filters/test', body: JSON.stringify(request), contentType: 'application/json', idempotent: true });
  }
}
