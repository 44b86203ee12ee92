import type { CursorStore } from './cursor-store.js';
import { HeraldProblemError } from './problem.js';
import { foreverRetry } from './retry.js';
import type { Transport } from './transport.js';
import type { CloudEvent } from './types.js';

export interface PullOptions {
  /** Keeps the `checkPoint` between runs, so a restart acknowledges the last handled page and goes on. */
  readonly checkpoint?: CursorStore;
  /** Events per page, 1 to 5000. Default 500. */
  readonly limit?: number;
  /** Seconds Herald holds a read of an empty queue (long polling), 0 to 30. Default 25. */
  readonly waitSeconds?: number;
  /** Keep waiting for events once drained (the default), or resolve then. */
  readonly follow?: boolean;
  /** Stops the loop: `pull` then resolves (the page being handled is left unacknowledged). */
  readonly signal?: AbortSignal;
}

/** One page of a pull subscription's queue, as the handler gets it. */
export interface PullPage {
  readonly subscriptionId: number;
  readonly events: readonly CloudEvent[];
  /** Acknowledges this page when it is passed back; the loop does that once the handler succeeded. */
  readonly checkPoint: string;
}

export interface PullSummary {
  /** Events handled (and acknowledged or about to be, with the saved checkpoint). */
  readonly events: number;
  readonly pages: number;
  /** The last checkpoint saved: pass nothing, the store has it. */
  readonly checkPoint: string | undefined;
}

/** Handles a page; the page is acknowledged only after it resolves. A throw stops the loop, unacknowledged. */
export type PullHandler = (events: readonly CloudEvent[], page: PullPage) => void | Promise<void>;

/**
 * Drains a pull subscription's queue (docs/pull.md): reads a page (holding the read open up to `waitSeconds`
 * while the queue is empty), hands it to `handler`, saves its `checkPoint`, and acknowledges it with the next
 * read. A page is acknowledged only after the handler succeeded, so a crash hands it out again: at least
 * once. Waits and retries on 429, 503 and while Herald is unreachable; after `events:checkpointOutOfRange` (the
 * subscription went inactive) it reads again without a checkpoint, from the earliest queued event.
 */
export async function pullEvents(transport: Transport, subscriptionId: number, handler: PullHandler, options: PullOptions = {}): Promise<PullSummary> {
  const store = options.checkpoint;
  let checkPoint = await store?.load();
  let events = 0;
  let pages = 0;
  const signal = options.signal;
  while (!signal?.aborted) {
    const query = new URLSearchParams({ limit: String(options.limit ?? 500), wait: String(options.follow === false ? 0 : (options.waitSeconds ?? 25)) });
    if (checkPoint !== undefined) query.set('checkPoint', checkPoint);
    let page: { checkPoint: string; events: CloudEvent[] };
    try {
      page = await transport.json({
        method: 'GET',
        path: `/subscriptions/${subscriptionId}/events`,
        query,
        idempotent: true, // passing the same checkpoint twice is harmless
        retry: foreverRetry,
        signal,
        timeoutMs: 35_000 + (options.waitSeconds ?? 25) * 1000,
      });
    } catch (error) {
      if (signal?.aborted) break;
      if (error instanceof HeraldProblemError && error.code === 'events:checkpointOutOfRange') {
        // The subscription went inactive: its old checkpoints no longer count. Start again at the earliest queued event.
        checkPoint = undefined;
        continue;
      }
      if (error instanceof HeraldProblemError && error.code === 'events:invalidCheckpoint') {
        throw new HeraldProblemError(error.problem as Record<string, unknown>, error.status, {
          message:
            `Herald refused the stored checkPoint for subscription ${subscriptionId} (events:invalidCheckpoint): it was not ` +
            "given out for this subscription (another subscription's, or another Herald's). Clear the checkpoint store " +
            'to read from the earliest queued event.',
        });
      }
      throw error;
    }
    if (page.events.length === 0) {
      // Drained. The empty page's checkpoint still acknowledges the page before it: keep it.
      if (page.checkPoint !== checkPoint) await store?.save(page.checkPoint);
      checkPoint = page.checkPoint;
      if (options.follow === false) break;
      continue;
    }
    await handler(page.events, { subscriptionId, events: page.events, checkPoint: page.checkPoint });
    events += page.events.length;
    pages += 1;
    checkPoint = page.checkPoint;
    await store?.save(checkPoint);
  }
  return { events, pages, checkPoint };
}
