import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToOthers } from 'node:timers/promises';
import { type Authorizer, scopesOnly } from '../domain/policy.js';
import { receivingStatuses } from '../domain/subscription-status.js';
import type { ReplayRecord } from '../store/replay-repository.js';
import type { Store } from '../store/store.js';
import { countSelection, type ReplayScope, scopeOfSubscription, selectPiece } from './replay-selection.js';

export interface ReplayerOptions {
  readonly store: Store;
  /** Who may read what, decided as each piece is enqueued; without one, scopes alone decided. */
  readonly authorizer?: Authorizer | undefined;
  readonly clock?: () => number;
  /** Names this process on its leases. */
  readonly owner?: string;
  readonly onError?: (error: unknown) => void;
  /** A piece was written: `deliveries` deliveries enqueued by a replay or backfill (a metric). */
  readonly onEnqueued?: (deliveries: number) => void;
  /** Bounds on one piece (defaults: `defaultPieceBounds`). */
  readonly piece?: Partial<PieceBounds>;
  /** How long a piece's lease lasts: how soon another process takes over a replay whose process died. */
  readonly leaseMs?: number;
  /** How long the loop sleeps when no replay could move on. */
  readonly idleWaitMs?: number;
  /** Finished replays are forgotten this long after they finished (HERALD_DELIVERY_RETENTION). */
  readonly keepFinishedMs?: number;
  /**
   * A backfill starts once its subscription has received events this long: every process then matches events
   * to it (they hear of a change within moments), so the backfill's end meets what publishing delivers.
   */
  readonly backfillSettleMs?: number;
}

/** What one piece of a replay may do (docs/replay.md#limits). */
export interface PieceBounds {
  /** Log rows (or the filter's index entries) one piece examines at most. */
  readonly examine: number;
  /** Deliveries one piece writes at most. */
  readonly events: number;
  /** A replay waits while its subscription has this many deliveries waiting (unsent, or queued unacknowledged). */
  readonly queuedAhead: number;
  /** Replays one step advances, one piece each. */
  readonly replays: number;
}

/**
 * A piece takes a few milliseconds on either engine: 10,000 rows examined is what a poll examines, and 1,000
 * deliveries is a tenth of what one publish commit may write, so publishing is never held up for long. A
 * subscription is kept at most 5,000 deliveries ahead of its receiver or reader, so a replay's events do not
 * pile up in the queue (cancelling still stops most of a large replay) and a slow endpoint slows only its own.
 */
export const defaultPieceBounds: PieceBounds = { examine: 10_000, events: 1_000, queuedAhead: 5_000, replays: 4 };

const defaultLeaseMs = 30_000;
const defaultBackfillSettleMs = 2_000;
const forgetEveryMs = 10 * 60_000;

/**
 * Enqueues replays in the background, piece by piece (docs/replay.md). Each step leases a few replays in
 * progress, the one advanced longest ago first, and moves each on by one bounded piece: deliveries of the
 * events its subscription selects and its owner may read now, written with the replay's new position in one
 * transaction that only the lease holder, at the position it read, can commit. Several processes share the
 * work; a replay whose process died is taken over once its lease lapses, from where it stood.
 */
export class Replayer {
  private readonly owner: string;
  private readonly clock: () => number;
  private readonly bounds: PieceBounds;
  private readonly authorizer: Authorizer;
  private running = false;
  private looping: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private lastForgotten = 0;

  constructor(private readonly options: ReplayerOptions) {
    this.owner = options.owner ?? randomUUID();
    this.clock = options.clock ?? Date.now;
    this.bounds = { ...defaultPieceBounds, ...options.piece };
    this.authorizer = options.authorizer ?? scopesOnly;
  }

  /** One step, for tests and the loop. @returns how many replays moved on */
  async runOnce(): Promise<number> {
    const { replays } = this.options.store;
    const now = this.clock();
    await this.forgetFinished(now);
    const leased = await replays.lease(this.owner, now, now + (this.options.leaseMs ?? defaultLeaseMs), this.bounds.replays);
    let moved = 0;
    for (const replay of leased) {
      try {
        if (await this.advance(replay)) moved++;
        else await replays.putBack(replay.id, this.owner, this.clock());
      } catch (error) {
        this.options.onError?.(error);
        await replays.putBack(replay.id, this.owner, this.clock()).catch(() => {});
      }
    }
    return moved;
  }

  /** Runs steps until `stop`: at once while replays move on, else when woken or after a short sleep. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.looping = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.looping;
  }

  /** A replay was created here: no need to wait for the next round. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      this.woken = false;
      let moved = 0;
      try {
        moved = await this.runOnce();
      } catch (error) {
        this.options.onError?.(error);
      }
      if (moved > 0) await yieldToOthers();
      else if (this.running && !this.woken) await this.sleep(this.options.idleWaitMs ?? 1_000);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  /**
   * Moves a leased replay on by one piece, or starts a waiting backfill. A replay whose subscription does not
   * receive events (a push subscription before its handshake, a disabled one) waits, as publishing writes
   * no deliveries for it either; so does one whose subscription is `queuedAhead` deliveries behind.
   * @returns whether it moved on (else its lease goes back)
   */
  private async advance(replay: ReplayRecord): Promise<boolean> {
    const { store } = this.options;
    const subscription = await store.subscriptions.get(replay.subscriptionId);
    if (!subscription || !receivingStatuses.includes(subscription.status)) return false;
    // Its filters as they are now, read with it: a replay honours them (docs/replay.md).
    const scope: ReplayScope = scopeOfSubscription(subscription.consumer, subscription);
    if (replay.status === 'waiting') {
      const since = subscription.validatedAt;
      if (since === null || this.clock() - since < (this.options.backfillSettleMs ?? defaultBackfillSettleMs)) return false;
      // Every process matches the subscription's events by now: the backfill covers everything up to now. What
      // committed since it started receiving comes twice, published and replayed; nothing comes not at all.
      const head = await store.headPosition();
      const more = await countSelection(store, this.authorizer, scope, { afterSeq: replay.throughSeq, throughSeq: head });
      return store.replays.start(replay, this.owner, head, more ?? 0, this.clock());
    }
    const ordered = subscription.ordering !== 'none' && subscription.endpoint !== null;
    const waiting = await store.replays.backlog(subscription.id, subscription.acknowledgedDeliveryId, this.bounds.queuedAhead, ordered);
    const room = Math.min(this.bounds.events, this.bounds.queuedAhead - waiting);
    if (room <= 0) return false;
    const piece = await selectPiece(store, this.authorizer, scope, { afterSeq: replay.position, throughSeq: replay.throughSeq }, {
      examine: this.bounds.examine,
      events: room,
    });
    const written = await store.replays.writePiece(
      replay,
      this.owner,
      piece.events.map((event) => event.seq),
      piece.reached,
      this.clock(),
    );
    if (written) this.options.onEnqueued?.(written);
    return written !== undefined;
  }

  /** Now and then, forgets finished replays older than the deliveries' retention. */
  private async forgetFinished(now: number): Promise<void> {
    if (now - this.lastForgotten < forgetEveryMs) return;
    this.lastForgotten = now;
    const keepMs = this.options.keepFinishedMs ?? 30 * 86_400_000;
    while ((await this.options.store.replays.forgetFinished(now - keepMs, 1_000)) === 1_000) await yieldToOthers();
  }
}
