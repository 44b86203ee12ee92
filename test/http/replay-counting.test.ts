import { describe, expect, it } from 'vitest';
import { HttpProblem } from '../../src/http/problems.js';
import { ReplayCounting } from '../../src/http/replay-plan.js';

describe('ReplayCounting', () => {
  it("refuses a consumer's second count while its first runs, with a 429 and Retry-After, and lets others count", async () => {
    const counting = new ReplayCounting();
    let finish: (count: number) => void = () => {};
    const first = counting.exclusively('/org/ttd', () => new Promise<number>((resolve) => (finish = resolve)));
    const refused = await counting.exclusively('/org/ttd', async () => 1).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(HttpProblem);
    expect(refused).toMatchObject({ kind: 'tooManyRequests', status: 429, extras: { headers: { 'retry-after': '1' } } });
    expect(await counting.exclusively('/org/other', async () => 2)).toBe(2);
    finish(3);
    expect(await first).toBe(3);
    expect(await counting.exclusively('/org/ttd', async () => 4)).toBe(4);
  });

  it('lets the consumer count again after a count that failed', async () => {
    const counting = new ReplayCounting();
    await expect(counting.exclusively('/org/ttd', async () => Promise.reject(new Error('store down')))).rejects.toThrow('store down');
    expect(await counting.exclusively('/org/ttd', async () => 5)).toBe(5);
  });
});
