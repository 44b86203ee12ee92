import { describe, expect, it } from 'vitest';
import { BudgetLedger } from '../../src/delivery/budget-ledger.js';
import { type ClaimRoom, offerClaim } from '../../src/delivery/claim-offer.js';
import { defaultBudgets } from '../../src/domain/delivery-budgets.js';
import type { DeliveryTask } from '../../src/store/records.js';

const keys = {
  consumerOf: () => 'alpha',
  originOf: () => 'https://receiver',
  pushSubscriptionsOf: () => [1, 2],
  pushSubscriptionsAt: () => [1, 2],
};
const task = (id: number, subscriptionId: number): DeliveryTask => ({ id, subscriptionId, attempts: 0, payload: '{}' });

/** A dispatcher with `slots` attempts, as a claim sees it: what it holds for claims and what it launched. */
function dispatcherRoom(slots: number) {
  const ledger = new BudgetLedger({ ...defaultBudgets, perProcess: slots, perSubscription: 10, perConsumer: 10, perOrigin: 10 }, keys);
  const state = { held: 0, launched: [] as DeliveryTask[], givenBack: [] as number[] };
  const room: ClaimRoom = {
    owner: 'here',
    leaseUntil: 60_000,
    ledger,
    rounds: () => 2,
    freeSlots: () => slots - state.launched.length - state.held,
    hold: (count) => {
      state.held += count;
    },
    sendsTo: () => true,
    launch: (t) => {
      ledger.hold(t.subscriptionId);
      ledger.started(t.subscriptionId);
      state.launched.push(t);
    },
    giveBack: (ids) => state.givenBack.push(...ids),
  };
  return { room, state };
}

describe('offerClaim', () => {
  it('holds a slot for each delivery it wants, so neither the lease loop nor a second claim fills it before the hand-off', () => {
    const { room, state } = dispatcherRoom(3);
    const first = offerClaim(room);
    expect([first.wants(1), first.wants(2)]).toEqual([true, true]);
    expect(state.held).toBe(2);
    // A publish committing meanwhile finds one slot left.
    const second = offerClaim(room);
    expect([second.wants(1), second.wants(2)]).toEqual([true, false]);
    expect(state.held).toBe(3);

    first.handOff([task(10, 1), task(11, 2)]);
    first.ended();
    expect(state.launched.map((t) => t.id)).toEqual([10, 11]);
    expect(state.held).toBe(1);
    second.handOff([task(12, 1)]);
    second.ended();
    expect(state.launched.map((t) => t.id)).toEqual([10, 11, 12]);
    expect(state.held).toBe(0);
    expect(state.givenBack).toEqual([]);
  });

  it('gives its slots back when the append ends without a hand-off (the commit failed, or stored nothing new)', () => {
    const { room, state } = dispatcherRoom(3);
    const claim = offerClaim(room);
    claim.wants(1);
    claim.wants(1);
    expect(state.held).toBe(2);
    claim.ended();
    expect(state.held).toBe(0);
    // Ending twice frees nothing twice.
    claim.ended();
    expect(state.held).toBe(0);
    expect(offerClaim(room).wants(2)).toBe(true);
  });
});
