/** How many event streams may be open at once, in one process (HERALD_STREAMS_PER_CONSUMER, HERALD_STREAMS_PER_PROCESS). */
export interface StreamLimits {
  readonly perConsumer: number;
  readonly perProcess: number;
}

export const defaultStreamLimits: StreamLimits = { perConsumer: 5, perProcess: 1_000 };

/** An open stream's place; releasing it twice frees it once. */
export interface StreamSlot {
  release(): void;
}

/** Why a stream could not open: its consumer has as many as it may, or the process has. */
export type StreamRefusal = { readonly full: 'consumer' | 'process' };

/**
 * Counts open streams per consumer and in all, so that one consumer's streams cannot take every connection a
 * process can hold. Consumers with no open stream are forgotten.
 * @example const slot = slots.take('/org/ttd'); if (!('full' in slot)) stream.once('close', () => slot.release());
 */
export class StreamSlots {
  private readonly open = new Map<string, number>();
  private total = 0;

  constructor(readonly limits: StreamLimits = defaultStreamLimits) {}

  take(consumer: string): StreamSlot | StreamRefusal {
    const held = this.open.get(consumer) ?? 0;
    if (held >= this.limits.perConsumer) return { full: 'consumer' };
    if (this.total >= this.limits.perProcess) return { full: 'process' };
    this.open.set(consumer, held + 1);
    this.total += 1;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.total -= 1;
        const left = (this.open.get(consumer) ?? 1) - 1;
        if (left === 0) this.open.delete(consumer);
        else this.open.set(consumer, left);
      },
    };
  }

  /** Streams open now, in this process. */
  get size(): number {
    return this.total;
  }

  /** Streams `consumer` has open now. */
  heldBy(consumer: string): number {
    return this.open.get(consumer) ?? 0;
  }
}
