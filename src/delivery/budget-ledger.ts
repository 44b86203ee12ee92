import type { DeliveryBudgets } from '../domain/delivery-budgets.js';
import type { LeaseRoom } from '../store/delivery-repository.js';
import type { DeliveryTask } from '../store/records.js';

/** Who a delivery's budgets belong to, from the subscription registry. */
export interface BudgetKeys {
  consumerOf(subscriptionId: number): string | undefined;
  originOf(subscriptionId: number): string | undefined;
  pushSubscriptionsOf(consumer: string): readonly number[];
  pushSubscriptionsAt(origin: string): readonly number[];
}

/**
 * Counts what is held per subscription, consumer and origin, and decides what a lease or a claim may take: this
 * process's own holdings, and, where other processes share the budgets, theirs as last heard.
 */
export class BudgetLedger {
  /** This process's holdings per subscription (in flight or leased to go next). */
  private readonly own = new Map<number, number>();
  /** Other processes' holdings per subscription, as last heard, where processes share the budgets. */
  private others = new Map<number, number>();
  /** Attempts in flight in this process: per subscription (with its consumer and origin), per consumer, per origin. */
  private readonly inFlight = new Map<number, InFlight>();
  private readonly inFlightByConsumer = new Map<string, number>();
  private readonly inFlightByOrigin = new Map<string, number>();

  constructor(
    private readonly budgets: DeliveryBudgets,
    private readonly keys: BudgetKeys,
  ) {}

  /** Attempts one subscription may have in flight in this process. */
  get perSubscription(): number {
    return this.budgets.perSubscription;
  }

  hold(subscriptionId: number): void {
    bump(this.own, subscriptionId);
  }

  free(subscriptionId: number): void {
    const left = (this.own.get(subscriptionId) ?? 1) - 1;
    if (left > 0) this.own.set(subscriptionId, left);
    else this.own.delete(subscriptionId);
  }

  /** What this process holds, to share with the others. */
  ownHoldings(): ReadonlyMap<number, number> {
    return this.own;
  }

  /** What the other processes hold, just heard. */
  readShared(others: Map<number, number>): void {
    this.others = others;
  }

  /**
   * What a lease may take now: saturated parties left out, the others each within the room it has left.
   * @param rounds how many rounds of each budget may be held: 2 while the loop leases one round ahead
   */
  leaseRoom(rounds: number): LeaseRoom {
    const { perSubscription, perConsumer, perOrigin } = this.caps(rounds);
    const held = this.held();
    const excluded = new Set<number>();
    const subscriptions = new Map<number, number>();
    for (const [id, count] of held.bySubscription) {
      if (count >= perSubscription) excluded.add(id);
      else subscriptions.set(id, perSubscription - count);
    }
    const consumers = new Map<string, number>();
    for (const [consumer, count] of held.byConsumer) {
      if (count >= perConsumer) for (const id of this.keys.pushSubscriptionsOf(consumer)) excluded.add(id);
      else consumers.set(consumer, perConsumer - count);
    }
    for (const [origin, count] of held.byOrigin) {
      if (count >= perOrigin) for (const id of this.keys.pushSubscriptionsAt(origin)) excluded.add(id);
    }
    return { excluded: [...excluded], subscriptions, perSubscription, consumers, perConsumer };
  }

  /**
   * Splits deliveries into what fits every budget and what goes back. Each task taken counts at once, so a
   * batch cannot overrun a budget it started within.
   */
  admit(tasks: readonly DeliveryTask[], rounds: number): { take: DeliveryTask[]; giveBack: DeliveryTask[] } {
    const caps = this.caps(rounds);
    const held = this.held();
    const take: DeliveryTask[] = [];
    const giveBack: DeliveryTask[] = [];
    for (const task of tasks) {
      if (this.fits(task.subscriptionId, held, caps)) {
        take.push(task);
        this.count(task.subscriptionId, held);
      } else giveBack.push(task);
    }
    return { take, giveBack };
  }

  /** A claim's planner: whether one more delivery to this subscription fits, counting it if so. */
  planner(rounds: number): (subscriptionId: number) => boolean {
    const caps = this.caps(rounds);
    const held = this.held();
    return (subscriptionId) => {
      if (!this.fits(subscriptionId, held, caps)) return false;
      this.count(subscriptionId, held);
      return true;
    };
  }

  /** Whether in-flight attempts to this subscription, its consumer and its origin leave a slot for one more. */
  slotFor(subscriptionId: number): boolean {
    const consumer = this.keys.consumerOf(subscriptionId);
    const origin = this.keys.originOf(subscriptionId);
    return (
      (this.inFlight.get(subscriptionId)?.count ?? 0) < this.budgets.perSubscription &&
      (consumer === undefined || (this.inFlightByConsumer.get(consumer) ?? 0) < this.budgets.perConsumer) &&
      (origin === undefined || (this.inFlightByOrigin.get(origin) ?? 0) < this.budgets.perOrigin)
    );
  }

  /** Attempts in flight to this subscription's endpoint. */
  inFlightTo(subscriptionId: number): number {
    return this.inFlight.get(subscriptionId)?.count ?? 0;
  }

  /**
   * An attempt started. Its consumer and origin are noted now, so its end is counted against them even if the
   * subscription is deleted or changed meanwhile.
   */
  started(subscriptionId: number): void {
    let entry = this.inFlight.get(subscriptionId);
    if (!entry) {
      entry = { count: 0, consumer: this.keys.consumerOf(subscriptionId), origin: this.keys.originOf(subscriptionId) };
      this.inFlight.set(subscriptionId, entry);
    }
    entry.count++;
    if (entry.consumer !== undefined) bump(this.inFlightByConsumer, entry.consumer);
    if (entry.origin !== undefined) bump(this.inFlightByOrigin, entry.origin);
  }

  /** An attempt ended. */
  ended(subscriptionId: number): void {
    const entry = this.inFlight.get(subscriptionId);
    if (!entry) return;
    if (--entry.count === 0) this.inFlight.delete(subscriptionId);
    if (entry.consumer !== undefined) bump(this.inFlightByConsumer, entry.consumer, -1);
    if (entry.origin !== undefined) bump(this.inFlightByOrigin, entry.origin, -1);
  }

  /**
   * What may be held, in flight and leased ahead together. In flight, each budget holds as it is (slotFor); held,
   * each may be taken `rounds` times, so a party's next round can wait leased while its slots are busy.
   */
  private caps(rounds: number): { perSubscription: number; perConsumer: number; perOrigin: number } {
    return {
      perSubscription: rounds * this.budgets.perSubscription,
      perConsumer: rounds * this.budgets.perConsumer,
      perOrigin: rounds * this.budgets.perOrigin,
    };
  }

  private fits(subscriptionId: number, held: Holdings, caps: ReturnType<BudgetLedger['caps']>): boolean {
    const consumer = this.keys.consumerOf(subscriptionId);
    const origin = this.keys.originOf(subscriptionId);
    return (
      (held.bySubscription.get(subscriptionId) ?? 0) < caps.perSubscription &&
      (consumer === undefined || (held.byConsumer.get(consumer) ?? 0) < caps.perConsumer) &&
      (origin === undefined || (held.byOrigin.get(origin) ?? 0) < caps.perOrigin)
    );
  }

  private count(subscriptionId: number, held: Holdings): void {
    bump(held.bySubscription, subscriptionId);
    const consumer = this.keys.consumerOf(subscriptionId);
    if (consumer !== undefined) bump(held.byConsumer, consumer);
    const origin = this.keys.originOf(subscriptionId);
    if (origin !== undefined) bump(held.byOrigin, origin);
  }

  /**
   * A subscription's budget is per process: its count is this process's own. A consumer's and an origin's are
   * shared: their counts add every process's holdings.
   */
  private held(): Holdings {
    const held: Holdings = { bySubscription: new Map(this.own), byConsumer: new Map(), byOrigin: new Map() };
    for (const holdings of [this.own, this.others]) {
      for (const [id, count] of holdings) {
        const consumer = this.keys.consumerOf(id);
        if (consumer !== undefined) bump(held.byConsumer, consumer, count);
        const origin = this.keys.originOf(id);
        if (origin !== undefined) bump(held.byOrigin, origin, count);
      }
    }
    return held;
  }
}

interface InFlight {
  count: number;
  readonly consumer: string | undefined;
  readonly origin: string | undefined;
}

interface Holdings {
  readonly bySubscription: Map<number, number>;
  readonly byConsumer: Map<string, number>;
  readonly byOrigin: Map<string, number>;
}

function bump<K>(map: Map<K, number>, key: K, by = 1): void {
  const count = (map.get(key) ?? 0) + by;
  if (count > 0) map.set(key, count);
  else map.delete(key);
}



/**
 * Orders what waits so that consumers take turns: each consumer's deliveries keep their order, and the first of
 * every consumer goes before the second of any. Slots are then shared among the consumers with work, not taken
 * by whoever's backlog is oldest.
 * @example inTurnByConsumer(['a1', 'a2', 'b1'], (x) => x[0]) // ['a1', 'b1', 'a2']
 */
export function inTurnByConsumer<T>(waiting: readonly T[], consumerOf: (entry: T) => string): T[] {
  const queues = new Map<string, T[]>();
  for (const entry of waiting) {
    const consumer = consumerOf(entry);
    const queue = queues.get(consumer);
    if (queue) queue.push(entry);
    else queues.set(consumer, [entry]);
  }
  if (queues.size <= 1) return [...waiting];
  const inTurn: T[] = [];
  for (let turn = 0; inTurn.length < waiting.length; turn++) {
    for (const queue of queues.values()) {
      const entry = queue[turn];
      if (entry !== undefined) inTurn.push(entry);
    }
  }
  return inTurn;
}
