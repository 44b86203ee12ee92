/**
 * What one party may hold of the delivery slots (docs/isolation.md). A delivery is held from its lease until its
 * outcome is recorded: in flight, or leased to go next. Budgets per consumer and per endpoint origin count every
 * process's holdings on PostgreSQL (they are read from the leases in the database), so a consumer's share does
 * not grow with the number of processes.
 */
export interface DeliveryBudgets {
  /** Attempts in flight at once in this process (HERALD_DELIVERY_CONCURRENCY). */
  readonly perProcess: number;
  /** Attempts in flight at once to one subscription's endpoint. */
  readonly perSubscription: number;
  /** Deliveries one consumer's subscriptions may hold at once, across processes (HERALD_DELIVERY_CONSUMER_BUDGET). */
  readonly perConsumer: number;
  /** Deliveries to one endpoint origin at once, whoever's, across processes (HERALD_DELIVERY_ORIGIN_BUDGET). */
  readonly perOrigin: number;
  /** Validation handshakes in flight at once in this process, beside the delivery slots (HERALD_HANDSHAKE_CONCURRENCY). */
  readonly handshakes: number;
  /** Validation handshakes one consumer may have in flight at once, across processes. */
  readonly handshakesPerConsumer: number;
}

/**
 * The defaults: a hanging endpoint holds a quarter of a process's slots and a hostile consumer three quarters, so
 * the others always have 32; an origin may hold more than one consumer can (so no consumer alone fills an origin
 * others send to), and leaves the rest 16. A lone busy consumer still has enough in flight that its attempts'
 * outcomes and leases are written in large batches (with half the slots, the delivery benchmark wrote 70 % more
 * statements per delivery).
 */
export const defaultBudgets: DeliveryBudgets = {
  perProcess: 128,
  perSubscription: 32,
  perConsumer: 96,
  perOrigin: 112,
  handshakes: 8,
  handshakesPerConsumer: 2,
};
