/** An attempt's abort signal, and what to call when it has finished so its deadline is forgotten. */
export interface Deadline {
  readonly signal: AbortSignal;
  done(): void;
}

interface Entry {
  readonly at: number;
  controller: AbortController | undefined;
}

/**
 * Aborts attempts that outlive their time limit, with one timer for all of them. `AbortSignal.timeout` per
 * attempt costs a timer, a weak reference and a finalisation record each, and at thousands of attempts a
 * second those live on for the whole timeout after the attempt is over (measured: 3 % of the delivery
 * benchmark's CPU, and old-space growth). Every attempt has the same limit, so deadlines come in the order
 * attempts start: a queue, checked from its head on a tick of a tenth of the limit (at most a second).
 * An attempt is therefore aborted between its limit and one tick after it.
 */
export class Deadlines {
  private readonly queue: Entry[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly tickMs: number;

  constructor(
    private readonly limitMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tickMs = Math.max(10, Math.min(1_000, Math.floor(limitMs / 10)));
  }

  /** A signal that aborts with a `TimeoutError` once the limit has passed, unless `done` is called first. */
  start(): Deadline {
    const controller = new AbortController();
    const entry: Entry = { at: this.now() + this.limitMs, controller };
    this.queue.push(entry);
    this.timer ??= setInterval(() => this.expire(), this.tickMs).unref();
    return {
      signal: controller.signal,
      // The entry stays queued until its turn, without the controller, which can then be collected.
      done: () => {
        entry.controller = undefined;
      },
    };
  }

  private expire(): void {
    const now = this.now();
    while (this.head < this.queue.length) {
      const entry = this.queue[this.head] as Entry;
      if (entry.controller !== undefined && entry.at > now) break;
      entry.controller?.abort(timeoutError(this.limitMs));
      this.head++;
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      clearInterval(this.timer);
      this.timer = undefined;
    } else if (this.head > 1_024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}

function timeoutError(limitMs: number): DOMException {
  return new DOMException(`No answer within ${limitMs} ms.`, 'TimeoutError');
}
