import type { ValidEvent } from '../domain/cloudevent.js';
import { SubscriptionIndex } from '../domain/subscription-index.js';
import { receivingStatuses } from '../domain/subscription-status.js';
import type { SubscriptionRecord } from '../store/records.js';
import type { Store } from '../store/store.js';

/** A safety net: the registry also reloads this often, in case an announcement was lost. */
export const registryRefreshMs = 30_000;

/**
 * This process's view of the subscriptions: the match index publishing uses, and the endpoints and secrets
 * the dispatcher needs. It reloads whenever the store announces a change, from any process, so a new,
 * changed or deleted subscription applies to the next event within moments, not after an hour-long cache.
 */
export class SubscriptionRegistry {
  private index = new SubscriptionIndex([]);
  private byId = new Map<number, SubscriptionRecord>();
  /** Push subscriptions by consumer and by endpoint origin: what a delivery budget covers. */
  private byConsumer = new Map<string, number[]>();
  private byOrigin = new Map<string, number[]>();
  private origins = new Map<number, string>();
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;
  /** Moves on when a full reload starts: a single read begun before it must not overwrite what it reads. */
  private generation = 0;
  private refreshing: Promise<void> = Promise.resolve();
  private stopWatching: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Subscriptions whose handshake succeeded, while the write that makes them active is under way (see `activate`). */
  private readonly activating = new Set<number>();

  constructor(private readonly store: Store) {}

  /** Loads the subscriptions and keeps them current until `stop`. */
  async start(): Promise<void> {
    this.stopWatching = this.store.watch((topic, subscriptionIds) => {
      if (topic !== 'subscriptions') return;
      // A change that names its subscriptions reads just those; one that does not, everything.
      void (subscriptionIds ? this.refresh(subscriptionIds) : this.reload()).catch(() => {});
    });
    this.timer = setInterval(() => void this.reload().catch(() => {}), registryRefreshMs);
    this.timer.unref();
    await this.reload();
  }

  stop(): void {
    this.stopWatching?.();
    clearInterval(this.timer);
  }

  /** The active subscriptions an event matches. Used inside the publish transaction. */
  readonly match = (event: ValidEvent): readonly number[] => this.index.match(event);

  get(id: number): SubscriptionRecord | undefined {
    return this.byId.get(id);
  }

  /**
   * Whether this process knows the subscription and, given the secret version the database holds, knows its
   * signing secrets as they are now (a rotation on another process is heard of moments later).
   */
  knows(id: number, secretVersion?: number): boolean {
    const known = this.byId.get(id);
    return known !== undefined && (secretVersion === undefined || known.secretVersion >= secretVersion);
  }

  /** The origin (scheme, host and port) of a push subscription's endpoint. */
  originOf(id: number): string | undefined {
    return this.origins.get(id);
  }

  /** A consumer's push subscriptions. */
  pushSubscriptionsOf(consumer: string): readonly number[] {
    return this.byConsumer.get(consumer) ?? [];
  }

  /** The push subscriptions whose endpoints share an origin. */
  pushSubscriptionsAt(origin: string): readonly number[] {
    return this.byOrigin.get(origin) ?? [];
  }

  /**
   * Reads these subscriptions again and files each anew in the index: a change costs the subscriptions it
   * touched, not every subscription (creating the thousandth took 20 ms of reload). Refreshes run one after
   * another; one that meets a full reload (under way, or begun while it read) leaves it to a full reload after.
   */
  refresh(subscriptionIds: readonly number[]): Promise<void> {
    if (this.reloading) return this.reload();
    const run = async () => {
      for (const id of subscriptionIds) {
        const generation = this.generation;
        const subscription = await this.store.subscriptions.get(id);
        // A full reload began meanwhile: which reading is newer cannot be told, so everything is read again.
        if (this.reloading || generation !== this.generation) {
          void this.reload().catch(() => {});
          return;
        }
        this.apply(id, subscription);
      }
    };
    this.refreshing = this.refreshing.then(run, run);
    return this.refreshing;
  }

  /**
   * Makes a subscription active with `write`, matching it here from before the write starts until its result has
   * been read back. The database shows the new status the moment the write commits, but this process hears of it
   * only once it is announced (after the disk flush on SQLite; through NOTIFY on PostgreSQL), and a busy disk or
   * database makes that tens of milliseconds: a client that read "active" meanwhile and published at once would
   * have found no match. Matching early queues nothing: publishing queues deliveries only for subscriptions the
   * database calls active (or inactive).
   */
  async activate(id: number, write: () => Promise<void>): Promise<void> {
    this.activating.add(id);
    try {
      const known = this.byId.get(id);
      if (known) this.apply(id, known);
      else await this.refresh([id]);
      await write();
    } finally {
      // Held until the result is read back, so a reading from before the write cannot take the match away.
      await this.refresh([id]).catch(() => {});
      await this.reloading?.catch(() => {});
      this.activating.delete(id);
      this.apply(id, this.byId.get(id));
    }
  }

  /** Puts one subscription's current reading (or its absence) in place. */
  private apply(id: number, subscription: SubscriptionRecord | undefined): void {
    const before = this.byId.get(id);
    if (before?.endpoint) {
      remove(this.byConsumer, before.consumer, id);
      remove(this.byOrigin, this.origins.get(id) ?? '', id);
      this.origins.delete(id);
    }
    if (!subscription) {
      this.byId.delete(id);
      this.index.remove(id);
      return;
    }
    this.byId.set(id, subscription);
    if (this.matches(subscription)) this.index.upsert(subscription);
    else this.index.remove(id);
    this.filePush(subscription);
  }

  /** Files a push subscription under its consumer and its endpoint's origin. */
  private filePush(subscription: SubscriptionRecord): void {
    if (!subscription.endpoint) return;
    const origin = endpointOrigin(subscription.endpoint);
    this.origins.set(subscription.id, origin);
    append(this.byConsumer, subscription.consumer, subscription.id);
    append(this.byOrigin, origin, subscription.id);
  }

  /**
   * Reads every subscription again and swaps the index in one step. Calls that arrive during a reload share
   * one more reload after it, so the last change is never missed.
   */
  async reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      try {
        do {
          this.reloadAgain = false;
          this.generation++;
          const all = await this.store.subscriptions.listAll();
          this.byId = new Map(all.map((s) => [s.id, s]));
          this.indexPush(all);
          // Filter expressions that did not change keep their compiled form.
          this.index = new SubscriptionIndex(all.filter((s) => this.matches(s)), this.index);
        } while (this.reloadAgain);
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  /** Whether events are matched to the subscription: active, inactive, or pending while it is being activated. */
  private matches(subscription: SubscriptionRecord): boolean {
    const { status } = subscription;
    // Inactive pull subscriptions keep queueing (receivingStatuses): only their reader stopped.
    return receivingStatuses.includes(status) || (status === 'pending' && this.activating.has(subscription.id));
  }

  private indexPush(all: readonly SubscriptionRecord[]): void {
    this.byConsumer = new Map();
    this.byOrigin = new Map();
    this.origins = new Map();
    for (const subscription of all) this.filePush(subscription);
  }
}

function remove<K>(map: Map<K, number[]>, key: K, id: number): void {
  const left = (map.get(key) ?? []).filter((other) => other !== id);
  if (left.length > 0) map.set(key, left);
  else map.delete(key);
}

function append<K>(map: Map<K, number[]>, key: K, id: number): void {
  const list = map.get(key);
  if (list) list.push(id);
  else map.set(key, [id]);
}

/** `https://hooks.example.com:8443`: endpoints with one origin share a budget (a stored endpoint always parses). */
function endpointOrigin(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return endpoint;
  }
}
