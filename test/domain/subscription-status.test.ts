import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  heldByOperator,
  initialSubscriptionStatus,
  nextSubscriptionStatus,
  receivingStatuses,
  sendingStatuses,
  type SubscriptionChange,
  type SubscriptionKind,
  subscriptionStatuses,
  subscriptionTransitions,
} from '../../src/domain/subscription-status.js';

const kinds: readonly SubscriptionKind[] = ['push', 'pull'];

/** Where `on` takes a subscription of `kind` from each status ('-' where it is refused), in `subscriptionStatuses` order. */
function row(on: SubscriptionChange, kind: SubscriptionKind): string {
  return subscriptionStatuses.map((from) => nextSubscriptionStatus(from, on, kind) ?? '-').join(' ');
}

describe('subscription status transitions', () => {
  it('names one target at most for every change, kind and status', () => {
    for (const { on } of subscriptionTransitions) {
      for (const kind of kinds) {
        for (const from of subscriptionStatuses) {
          const rows = subscriptionTransitions.filter((t) => t.on === on && (t.kind ?? kind) === kind && t.from.includes(from));
          expect(rows.length, `${on} ${kind} from ${from}`).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  // Columns: from pending, active, disabled, inactive.
  it('lets the handshake change only a push subscription waiting for it or re-validated while active', () => {
    expect(row('validated', 'push')).toBe('active active - -');
    expect(row('validationFailed', 'push')).toBe('pending active - -');
    expect(row('validationGone', 'push')).toBe('disabled disabled - -');
    expect(row('validated', 'pull')).toBe('- - - -');
  });

  it("keeps an active subscription active while its owner has it validated again; the others wait as pending", () => {
    expect(row('revalidationRequested', 'push')).toBe('pending active pending pending');
    expect(row('revalidationRequested', 'pull')).toBe('- - - -');
  });

  it("lets an operator disable anything, and enable a pull subscription at once but a push one through its handshake", () => {
    for (const kind of kinds) expect(row('disabledByOperator', kind)).toBe('disabled disabled disabled disabled');
    expect(row('enabledByOperator', 'pull')).toBe('active active active active');
    expect(row('enabledByOperator', 'push')).toBe('pending active pending pending');
  });

  it('makes only an active pull subscription inactive, and only an inactive one active again by a read', () => {
    expect(row('unreadTooLong', 'pull')).toBe('- inactive - -');
    expect(row('readAgain', 'pull')).toBe('- - - active');
    expect(row('unreadTooLong', 'push')).toBe('- - - -');
  });

  it('starts push subscriptions pending and pull ones active; sends only to active ones, queues for inactive too', () => {
    expect(initialSubscriptionStatus).toEqual({ push: 'pending', pull: 'active' });
    expect(sendingStatuses).toEqual(['active']);
    expect(receivingStatuses).toEqual(['active', 'inactive']);
  });

  it("holds a subscription for the operator only when an operator disabled it", () => {
    expect(heldByOperator({ status: 'disabled', disabledBy: 'operator' })).toBe(true);
    expect(heldByOperator({ status: 'disabled', disabledBy: 'endpoint' })).toBe(false);
    expect(heldByOperator({ status: 'active', disabledBy: null })).toBe(false);
  });

  it("names exactly the statuses each engine's schema allows", () => {
    for (const engine of ['sqlite', 'postgres']) {
      const schema = readFileSync(new URL(`../../src/store/${engine}/schema.sql`, import.meta.url), 'utf8');
      const check = /CREATE TABLE (?:public\.)?subscriptions \([^;]*?CHECK \(\(?status (?:IN \(|= ANY \(ARRAY\[)([^)\]]*)/s.exec(schema);
      const allowed = [...(check?.[1] ?? '').matchAll(/'([a-z]+)'/g)].map((m) => m[1]);
      expect(allowed, engine).toEqual(subscriptionStatuses);
    }
  });
});
