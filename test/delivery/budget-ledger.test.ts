import { describe, expect, it } from 'vitest';
import { BudgetLedger, inTurnByConsumer } from '../../src/delivery/budget-ledger.js';
import { defaultBudgets } from '../../src/domain/delivery-budgets.js';

/** Subscriptions 1–3 belong to alpha, 4 to beta; 1, 2 and 4 share an origin. */
const keys = {
  consumerOf: (id: number) => (id <= 3 ? 'alpha' : 'beta'),
  originOf: (id: number) => (id === 3 ? 'https://other' : 'https://shared'),
  pushSubscriptionsOf: (consumer: string) => (consumer === 'alpha' ? [1, 2, 3] : [4]),
  pushSubscriptionsAt: (origin: string) => (origin === 'https://other' ? [3] : [1, 2, 4]),
};
const budgets = { ...defaultBudgets, perSubscription: 2, perConsumer: 3, perOrigin: 4 };
const task = (subscriptionId: number) => ({ id: subscriptionId * 100, subscriptionId, attempts: 0, payload: '{}' });

describe('BudgetLedger', () => {
  it('leaves a consumer at its budget out of the lease, and gives the others their room', () => {
    const ledger = new BudgetLedger(budgets, keys);
    for (const id of [1, 1, 3]) ledger.hold(id);
    const room = ledger.leaseRoom(1);
    expect([...room.excluded].sort()).toEqual([1, 2, 3]); // alpha holds 3 of 3; subscription 1 is full too
    expect(room.consumers.size).toBe(0);
    ledger.free(3);
    const after = ledger.leaseRoom(1);
    expect(after.excluded).toEqual([1]);
    expect(after.consumers.get('alpha')).toBe(1);
    expect(after.subscriptions.get(1)).toBeUndefined();
  });

  it('leaves out every subscription of an origin at its budget, whoever owns it', () => {
    const ledger = new BudgetLedger({ ...budgets, perConsumer: 10 }, keys);
    for (const id of [1, 1, 2, 4]) ledger.hold(id);
    expect([...ledger.leaseRoom(1).excluded].sort()).toEqual([1, 2, 4]);
  });

  it('admits within every budget and counts each admitted task at once', () => {
    const ledger = new BudgetLedger(budgets, keys);
    const { take, giveBack } = ledger.admit([task(1), task(1), task(1), task(2), task(3), task(4)], 1);
    expect(take.map((t) => t.subscriptionId)).toEqual([1, 1, 2, 4]);
    expect(giveBack.map((t) => t.subscriptionId)).toEqual([1, 3]);
  });

  it('holds twice the budgets while a round is leased ahead', () => {
    const ledger = new BudgetLedger(budgets, keys);
    expect(ledger.admit([1, 1, 1, 1, 1].map(task), 2).take).toHaveLength(4);
  });

  it("counts other processes' holdings for consumers and origins, not for a subscription's own budget", () => {
    const ledger = new BudgetLedger(budgets, keys);
    ledger.readShared(new Map([[2, 2]]));
    ledger.hold(3);
    const room = ledger.leaseRoom(1);
    expect([...room.excluded].sort()).toEqual([1, 2, 3]); // alpha: 2 elsewhere + 1 here = its 3
    expect(room.subscriptions.has(2)).toBe(false); // subscription 2's own budget is this process's: untouched
    ledger.free(3);
    expect(ledger.leaseRoom(1).consumers.get('alpha')).toBe(1);
  });
});

describe('BudgetLedger in flight', () => {
  it("frees a consumer's and an origin's slot when an attempt ends after its subscription was deleted", () => {
    let deleted = false;
    const ledger = new BudgetLedger(
      { ...budgets, perSubscription: 5, perConsumer: 1, perOrigin: 1 },
      {
        ...keys,
        consumerOf: (id) => (deleted && id === 1 ? undefined : keys.consumerOf(id)),
        originOf: (id) => (deleted && id === 1 ? undefined : keys.originOf(id)),
      },
    );
    ledger.started(1);
    expect(ledger.slotFor(2)).toBe(false); // alpha's one slot is in flight
    expect(ledger.slotFor(4)).toBe(false); // and so is the shared origin's
    deleted = true; // subscription 1 deleted while its attempt ran
    ledger.ended(1);
    expect(ledger.slotFor(2)).toBe(true);
    expect(ledger.slotFor(4)).toBe(true);
    expect(ledger.inFlightTo(1)).toBe(0);
  });

  it('counts each subscription within its own slots', () => {
    const ledger = new BudgetLedger(budgets, keys);
    ledger.started(1);
    ledger.started(1);
    expect(ledger.slotFor(1)).toBe(false); // two of two
    expect(ledger.slotFor(2)).toBe(true);
    ledger.ended(1);
    expect(ledger.inFlightTo(1)).toBe(1);
    expect(ledger.slotFor(1)).toBe(true);
  });
});

describe('inTurnByConsumer', () => {
  it("takes each consumer's first before any consumer's second, keeping each consumer's order", () => {
    expect(inTurnByConsumer(['a1', 'a2', 'a3', 'b1', 'c1', 'b2'], (x) => x[0] as string)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
    expect(inTurnByConsumer(['a1', 'a2'], (x) => x[0] as string)).toEqual(['a1', 'a2']);
  });
});
