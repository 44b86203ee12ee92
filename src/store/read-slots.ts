/**
 * At most `slots` reads at a time; the rest wait their turn, first come first served. PostgreSQL's pool is
 * shared by everything a process does: without a bound, a handful of expensive polls would hold every
 * connection, and a publish, a lease or a subscription change would wait behind them (docs/storage.md).
 */
export class ReadSlots {
  private inUse = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly slots: number) {}

  async run<T>(read: () => Promise<T>): Promise<T> {
    if (this.inUse >= this.slots) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.inUse++;
    try {
      return await read();
    } finally {
      // The slot passes straight to the next in line, so `inUse` counts it still.
      const next = this.waiting.shift();
      if (next) next();
      else this.inUse--;
    }
  }
}
