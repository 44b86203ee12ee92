import type { DeliveryTask } from '../store/records.js';
import type { DeliveryClaim } from '../store/store.js';
import type { BudgetLedger } from './budget-ledger.js';

/** What a claim needs of its dispatcher at the moment it is offered. */
export interface ClaimRoom {
  readonly owner: string;
  readonly leaseUntil: number;
  readonly ledger: BudgetLedger;
  /** How many rounds of each budget may be held now (see BudgetLedger). */
  rounds(): number;
  /** Attempts this process may still start: slots neither in use nor held for a claim. */
  freeSlots(): number;
  /** Holds `count` slots for deliveries a claim wants (or, negative, frees them): the lease loop leaves them. */
  hold(count: number): void;
  /** Whether this process sends to the subscription now: a push subscription it knows, not suspended. */
  sendsTo(subscriptionId: number): boolean;
  /** Starts an attempt (it counts at once). */
  launch(task: DeliveryTask): void;
  /** Gives deliveries back to the queue. */
  giveBack(ids: number[]): void;
}

/**
 * A claim on new deliveries in the publish transaction (see DeliveryClaim): as many as the process has slots for,
 * within every budget. Once committed they are attempted at once, with no lease statement and no payload read.
 */
export function offerClaim(room: ClaimRoom): DeliveryClaim {
  let slots = room.freeSlots();
  const planned = new Map<number, number>();
  const fits = room.ledger.planner(room.rounds());
  // Slots this claim holds until its deliveries are handed off or the append ends: between the commit and
  // the hand-off the lease loop must not fill them (it would lease a round more than the process may hold).
  let held = 0;
  const release = () => {
    room.hold(-held);
    held = 0;
  };
  return {
    owner: room.owner,
    leaseUntil: room.leaseUntil,
    wants: (subscriptionId) => {
      if (slots <= 0 || !room.sendsTo(subscriptionId)) return false;
      const count = planned.get(subscriptionId) ?? room.ledger.inFlightTo(subscriptionId);
      if (count >= room.ledger.perSubscription || !fits(subscriptionId)) return false;
      planned.set(subscriptionId, count + 1);
      slots--;
      held++;
      room.hold(1);
      return true;
    },
    ended: release,
    handOff: (tasks) => {
      release();
      // Other attempts may have started since the offer: what no longer fits (this process's slots, the
      // budgets) goes back to the queue. Each attempt counts as it starts, so the next sees it.
      const { take, giveBack } = room.ledger.admit(tasks, room.rounds());
      for (const task of take) {
        if (room.freeSlots() <= 0 || !room.ledger.slotFor(task.subscriptionId)) giveBack.push(task);
        else room.launch(task);
      }
      if (giveBack.length > 0) room.giveBack(giveBack.map((task) => task.id));
    },
  };
}
