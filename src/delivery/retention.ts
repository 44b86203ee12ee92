import { setImmediate as yieldToOthers } from 'node:timers/promises';
import type { Store } from '../store/store.js';

export interface RetentionOptions {
  readonly store: Store;
  /** Events older than this are removed, with every delivery of theirs (HERALD_RETENTION). */
  readonly eventsMs: number;
  /** Delivered and dead deliveries older than this are removed (HERALD_DELIVERY_RETENTION). */
  readonly deliveriesMs: number;
  /** How often the loop runs. */
  readonly intervalMs?: number;
  readonly clock?: () => number;
  readonly onError?: (error: unknown) => void;
}

/** What one round removed. */
export interface RetentionRound {
  readonly events: number;
  readonly deliveries: number;
  readonly finishedDeliveries: number;
  readonly forgottenKeys: number;
  /** PostgreSQL partitions dropped. */
  readonly droppedPartitions: readonly string[];
}

/** Rows per statement: small, so no statement holds locks for long and publishing goes on in between. */
const batchSize = 1_000;
/** At most this many batches of each kind per round; the rest wait for the next round. */
const maxBatchesPerRound = 100;
/** How far apart the time→position marks are: removal is at most this late. */
const markSpacingMs = 10 * 60_000;
/** PostgreSQL partitions: about 15 per retention period, each between one and seven days. */
const partitionsPerRetention = 15;
const dayMs = 86_400_000;

/**
 * Removes what is older than its retention, in the background: events and all their deliveries after
 * HERALD_RETENTION, finished deliveries after HERALD_DELIVERY_RETENTION. On PostgreSQL whole partitions are
 * dropped; rows are removed in small batches, oldest first, yielding between batches. The keys of removed
 * events are remembered for one more retention period, so an `after` naming one is answered 410.
 */
export class Retention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private readonly clock: () => number;

  constructor(private readonly options: RetentionOptions) {
    this.clock = options.clock ?? Date.now;
  }

  /** The days one new PostgreSQL partition covers. */
  get partitionSpanDays(): number {
    return Math.min(7, Math.max(1, Math.round(this.options.eventsMs / dayMs / partitionsPerRetention)));
  }

  /** One round, for tests and the loop. */
  async runOnce(): Promise<RetentionRound> {
    const retention = this.options.store.retention;
    await retention.mark(this.clock, markSpacingMs, this.partitionSpanDays);
    const now = this.clock();
    let events = 0;
    let deliveries = 0;
    let droppedPartitions: string[] = [];
    const eventMark = await retention.markAt(now - this.options.eventsMs);
    if (eventMark) {
      // Replays' deliveries of the events leaving go before their partitions do (they sit in newer ones).
      const replayedLeft = await this.inBatches((limit) => retention.removeReplayedDeliveries(eventMark, limit));
      deliveries = replayedLeft.removed;
      if (replayedLeft.done) droppedPartitions = await retention.dropPartitionsBefore(eventMark);
      // Every delivery before the mark goes first, so no delivery outlives its event.
      const deliveriesLeft = replayedLeft.done
        ? await this.inBatches((limit) => retention.removeDeliveries(eventMark, limit))
        : { removed: 0, done: false };
      deliveries += deliveriesLeft.removed;
      if (deliveriesLeft.done) events = (await this.inBatches((limit) => retention.removeEvents(eventMark, limit))).removed;
    }
    let finishedDeliveries = 0;
    const deliveryMark = await retention.markAt(now - this.options.deliveriesMs);
    if (deliveryMark) {
      for (let batch = 0; batch < maxBatchesPerRound; batch++) {
        const swept = await retention.removeFinishedDeliveries(deliveryMark.deliveriesBefore, batchSize);
        finishedDeliveries += swept.removed;
        if (swept.scanned < batchSize) break;
        await yieldToOthers();
      }
    }
    let forgottenKeys = 0;
    const keyHorizon = now - 2 * this.options.eventsMs;
    const keyMark = await retention.markAt(keyHorizon);
    if (keyMark) {
      forgottenKeys = (await this.inBatches((limit) => retention.forgetRemovedKeys(keyMark.eventsBefore, limit))).removed;
    }
    await retention.forgetMarksBefore(Math.min(keyHorizon, now - this.options.deliveriesMs));
    return { events, deliveries, finishedDeliveries, forgottenKeys, droppedPartitions };
  }

  start(): void {
    const tick = () => {
      if (this.running) return;
      this.running = this.runOnce()
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => {
          this.running = undefined;
        });
    };
    // At once, so partitions are made ahead before the first day boundary.
    tick();
    this.timer = setInterval(tick, this.options.intervalMs ?? 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Runs `step` until it removes less than a batch or the round's budget is spent, yielding in between. */
  private async inBatches(step: (limit: number) => Promise<number>): Promise<{ removed: number; done: boolean }> {
    let removed = 0;
    for (let batch = 0; batch < maxBatchesPerRound; batch++) {
      const count = await step(batchSize);
      removed += count;
      if (count < batchSize) return { removed, done: true };
      await yieldToOthers();
    }
    return { removed, done: false };
  }
}
