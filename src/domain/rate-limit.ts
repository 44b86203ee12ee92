/**
 * Per-consumer rate limits: a token bucket for each consumer, refilled at `perSecond` up to `burst`. Buckets
 * of consumers idle long enough to be full again are forgotten, so memory follows the active consumers.
 */
export class ConsumerRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number = perSecond * 2,
    private readonly maxConsumers = 100_000,
  ) {}

  /**
   * Takes `cost` tokens from the consumer's bucket.
   * @returns 0 when allowed, else how many milliseconds until the cost would be affordable
   */
  take(consumer: string, cost: number, now: number): number {
    const bucket = this.buckets.get(consumer) ?? { tokens: this.burst, at: now };
    const tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    // A single request larger than the burst is allowed once the bucket is full, never for ever refused.
    const needed = Math.min(cost, this.burst);
    if (tokens < needed) {
      this.remember(consumer, { tokens, at: now });
      return Math.ceil(((needed - tokens) / this.perSecond) * 1000);
    }
    this.remember(consumer, { tokens: tokens - needed, at: now });
    return 0;
  }

  private remember(consumer: string, bucket: { tokens: number; at: number }): void {
    this.buckets.delete(consumer);
    if (this.buckets.size >= this.maxConsumers) {
      // The least recently used consumer (Map keeps insertion order) loses its bucket: at worst it gets a
      // full burst again.
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    this.buckets.set(consumer, bucket);
  }
}
