import type { Transport } from './transport.js';
import type { Replay, ReplayRequest } from './types.js';

/** Sending a subscription's events from the log again (docs/replay.md). */
export class Replays {
  constructor(private readonly transport: Transport) {}

  /**
   * Starts a replay (`from` a time, or `after` an event id or position). Not retried on a failed connection:
   * a second request would be a second replay.
   */
  start(subscriptionId: number, request: Omit<ReplayRequest, 'dryRun'>): Promise<Replay> {
    return this.transport.json({ method: 'POST', path: `/subscriptions/${subscriptionId}/replay`, body: JSON.stringify(request), contentType: 'application/json', idempotent: false });
  }

  /** Counts what a replay of this range would send, and starts nothing. */
  count(subscriptionId: number, request: Omit<ReplayRequest, 'dryRun'>): Promise<{ events: number }> {
    return this.transport.json({
      method: 'POST',
      path: `/subscriptions/${subscriptionId}/replay`,
      body: JSON.stringify({ ...request, dryRun: true }),
      contentType: 'application/json',
      idempotent: true,
    });
  }

  get(subscriptionId: number, replayId: number): Promise<Replay> {
    return this.transport.json({ method: 'GET', path: `/subscriptions/${subscriptionId}/replays/${replayId}`, idempotent: true });
  }

  /** The subscription's newest 100 replays. */
  async list(subscriptionId: number): Promise<Replay[]> {
    const answer = await this.transport.json<{ replays: Replay[] }>({ method: 'GET', path: `/subscriptions/${subscriptionId}/replays`, idempotent: true });
    return answer.replays;
  }

  /** Stops it: nothing more is enqueued; what was, is delivered. */
  cancel(subscriptionId: number, replayId: number): Promise<Replay> {
    return this.transport.json({ method: 'DELETE', path: `/subscriptions/${subscriptionId}/replays/${replayId}`, idempotent: true });
  }
}
