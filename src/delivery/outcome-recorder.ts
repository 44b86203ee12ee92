import type { AttemptRecord } from '../domain/attempt-record.js';
import type { AttemptOutcome } from '../domain/delivery-attempt.js';
import type { Store } from '../store/store.js';

/**
 * Writes attempts' outcomes for one lease holder, group-committed as publishing is: one statement (one durable
 * commit) at a time, carrying every outcome that arrived while the previous one committed. Only the holder of
 * a delivery's lease may record it (see DeliveryRepository.settleMany).
 */
export class OutcomeRecorder {
  private queued: { id: number; outcome: AttemptOutcome; attempt: AttemptRecord | undefined; done: (error?: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly owner: string,
    private readonly clock: () => number,
  ) {}

  /**
   * Resolves once the outcome, with the attempt that led to it (none when nothing was sent), is durably
   * recorded; rejects if its statement failed.
   */
  record(id: number, outcome: AttemptOutcome, attempt?: AttemptRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queued.push({ id, outcome, attempt, done: (error) => (error === undefined ? resolve() : reject(error)) });
      this.flushing ??= new Promise<void>((done) => setImmediate(() => void this.flush().finally(done)));
    });
  }

  private async flush(): Promise<void> {
    while (this.queued.length > 0) {
      const batch = this.queued;
      this.queued = [];
      try {
        await this.store.deliveries.settleMany(this.owner, batch, this.clock());
        for (const item of batch) item.done();
      } catch (error) {
        // Unrecorded outcomes are not lost: the leases lapse and the deliveries are attempted again.
        for (const item of batch) item.done(error);
      }
    }
    this.flushing = undefined;
  }
}
