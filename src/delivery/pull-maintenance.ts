import type { Store } from '../store/store.js';

export interface PullMaintenanceOptions {
  readonly store: Store;
  /** A pull subscription unread for this long becomes inactive. */
  readonly inactivityMs: number;
  /** How often the loop runs. */
  readonly intervalMs?: number;
  readonly clock?: () => number;
  readonly onError?: (error: unknown) => void;
}

/** Acknowledged rows removed per statement: small, so no statement holds locks for long. */
const removalBatch = 1_000;
/** At most this many batches per round; the rest wait for the next round. */
const maxBatchesPerRound = 50;

/**
 * Keeps pull subscriptions tidy in the background: marks the ones unread for too long inactive, and removes
 * acknowledged queue rows in small batches (acknowledging itself only moves a position). Marking is
 * housekeeping (the status shown for subscriptions nobody reads): a read judges inactivity itself, at the
 * moment it comes (PullRepository.recordRead), so no reader depends on when this last ran.
 */
export class PullMaintenance {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private readonly clock: () => number;

  constructor(private readonly options: PullMaintenanceOptions) {
    this.clock = options.clock ?? Date.now;
  }

  /** One round, for tests and the loop. */
  async runOnce(): Promise<{ inactivated: number; removed: number }> {
    const inactivated = await this.options.store.pull.markInactive(this.clock() - this.options.inactivityMs);
    let removed = 0;
    for (let batch = 0; batch < maxBatchesPerRound; batch++) {
      const deleted = await this.options.store.pull.removeAcknowledged(removalBatch);
      removed += deleted;
      if (deleted < removalBatch) break;
    }
    return { inactivated, removed };
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.runOnce()
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => {
          this.running = undefined;
        });
    }, this.options.intervalMs ?? 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
