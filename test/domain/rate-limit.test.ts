import { describe, expect, it } from 'vitest';
import { ConsumerRateLimiter } from '../../src/domain/rate-limit.js';

describe('ConsumerRateLimiter', () => {
  it('allows a burst, then refuses with the time until enough tokens have refilled', () => {
    const limiter = new ConsumerRateLimiter(10, 20);
    expect(limiter.take('/org/a', 20, 0)).toBe(0);
    expect(limiter.take('/org/a', 5, 0)).toBe(500);
    expect(limiter.take('/org/a', 5, 500)).toBe(0);
  });

  it('keeps each consumer to its own bucket', () => {
    const limiter = new ConsumerRateLimiter(1, 1);
    expect(limiter.take('/org/a', 1, 0)).toBe(0);
    expect(limiter.take('/org/a', 1, 0)).toBeGreaterThan(0);
    expect(limiter.take('/org/b', 1, 0)).toBe(0);
  });

  it('lets a request costing more than the burst through once the bucket is full, never refusing it for ever', () => {
    const limiter = new ConsumerRateLimiter(100, 200);
    expect(limiter.take('/org/a', 1_000, 0)).toBe(0);
    expect(limiter.take('/org/a', 1_000, 0)).toBe(2_000);
    expect(limiter.take('/org/a', 1_000, 2_000)).toBe(0);
  });

  it('forgets the least recently used consumers beyond its bound', () => {
    const limiter = new ConsumerRateLimiter(1, 1, 2);
    limiter.take('/org/a', 1, 0);
    limiter.take('/org/b', 1, 0);
    limiter.take('/org/c', 1, 0);
    expect(limiter.take('/org/a', 1, 0)).toBe(0); // forgotten, so full again
    expect(limiter.take('/org/c', 1, 0)).toBeGreaterThan(0);
  });
});
