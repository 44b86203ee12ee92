import { pageQuery } from './subscriptions.js';
import type { Transport } from './transport.js';
import type { DeliveryAttemptPage, DeliveryDetail, DeliveryPage, DeliveryStatus, RedriveFilter } from './types.js';

/** A subscription's deliveries, their attempts, dead letters and redrive (docs/delivery.md, docs/dead-letters.md). */
export class Deliveries {
  constructor(private readonly transport: Transport) {}

  /** One page of a subscription's deliveries, oldest first; `status: 'dead'` lists its dead letters. */
  list(subscriptionId: number, page: { status?: DeliveryStatus; after?: number; size?: number } = {}): Promise<DeliveryPage> {
    return this.transport.json({ method: 'GET', path: `/subscriptions/${subscriptionId}/deliveries`, query: pageQuery(page), idempotent: true });
  }

  /** A subscription's dead letters, one page. */
  deadLetters(subscriptionId: number, page: { after?: number; size?: number } = {}): Promise<DeliveryPage> {
    return this.list(subscriptionId, { ...page, status: 'dead' });
  }

  get(subscriptionId: number, deliveryId: number): Promise<DeliveryDetail> {
    return this.transport.json({ method: 'GET', path: `/subscriptions/${subscriptionId}/deliveries/${deliveryId}`, idempotent: true });
  }

  /** Every attempt of a delivery on record, oldest first, one page. */
  attempts(subscriptionId: number, deliveryId: number, page: { after?: number; size?: number } = {}): Promise<DeliveryAttemptPage> {
    return this.transport.json({
      method: 'GET',
      path: `/subscriptions/${subscriptionId}/deliveries/${deliveryId}/attempts`,
      query: pageQuery(page),
      idempotent: true,
    });
  }

  /** Sends one delivery again with a fresh ladder, keeping its `webhook-id`. */
  resend(subscriptionId: number, deliveryId: number): Promise<DeliveryDetail> {
    return this.transport.json({ method: 'POST', path: `/subscriptions/${subscriptionId}/deliveries/${deliveryId}/resend`, idempotent: true });
  }

  /** Puts dead letters back in the queue (all of them, or those the filter names); answers how many. */
  redrive(subscriptionId: number, filter: RedriveFilter = {}): Promise<{ redriven: number }> {
    return this.transport.json({
      method: 'POST',
      path: `/subscriptions/${subscriptionId}/deliveries/redrive`,
      body: JSON.stringify(filter),
      contentType: 'application/json',
      idempotent: true,
    });
  }
}
