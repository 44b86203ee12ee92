import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  deliveryStatuses,
  deliveryTransition,
  deliveryTransitions,
  finishedDeliveryStatuses,
  nextDeliveryStatus,
  waitingDeliveryStatuses,
} from '../../src/domain/delivery-status.js';

describe('delivery status transitions', () => {
  it('has one row per change, each leading to a known status', () => {
    expect(new Set(deliveryTransitions.map((t) => t.on)).size).toBe(deliveryTransitions.length);
    for (const t of deliveryTransitions) expect(deliveryStatuses).toContain(t.to);
  });

  it("records an attempt's outcome only on a waiting delivery: delivered, failed (a retry is scheduled) or dead", () => {
    for (const from of waitingDeliveryStatuses) {
      expect(nextDeliveryStatus(from, 'delivered')).toBe('delivered');
      expect(nextDeliveryStatus(from, 'retry')).toBe('failed');
      expect(nextDeliveryStatus(from, 'dead')).toBe('dead');
    }
    for (const from of finishedDeliveryStatuses) {
      for (const on of ['delivered', 'retry', 'dead'] as const) expect(nextDeliveryStatus(from, on)).toBeUndefined();
    }
  });

  it('redrives only dead deliveries, back to pending', () => {
    expect(deliveryStatuses.map((from) => nextDeliveryStatus(from, 'redriven'))).toEqual([undefined, undefined, undefined, 'pending']);
    expect(deliveryTransition('redriven').from).toEqual(['dead']);
  });

  it('counts every status as waiting or finished, never both', () => {
    expect([...waitingDeliveryStatuses, ...finishedDeliveryStatuses].sort()).toEqual([...deliveryStatuses].sort());
  });

  it("names exactly the statuses each engine's schema allows", () => {
    for (const engine of ['sqlite', 'postgres']) {
      const schema = readFileSync(new URL(`../../src/store/${engine}/schema.sql`, import.meta.url), 'utf8');
      const check = /CREATE TABLE (?:public\.)?deliveries \([^;]*?CHECK \(\(?status (?:IN \(|= ANY \(ARRAY\[)([^)\]]*)/s.exec(schema);
      const allowed = [...(check?.[1] ?? '').matchAll(/'([a-z]+)'/g)].map((m) => m[1]);
      expect(allowed, engine).toEqual(deliveryStatuses);
    }
  });
});
