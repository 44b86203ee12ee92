import { describe, expect, it } from 'vitest';
import { Deadlines } from '../../src/delivery/deadlines.js';

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Deadlines', () => {
  it('aborts an attempt with a TimeoutError once its limit has passed, not before', async () => {
    let now = 0;
    const deadlines = new Deadlines(100, () => now);
    const deadline = deadlines.start();
    now = 99;
    await wait(40); // several ticks of 10 ms
    expect(deadline.signal.aborted).toBe(false);
    now = 100;
    await wait(40);
    expect(deadline.signal.aborted).toBe(true);
    expect((deadline.signal.reason as DOMException).name).toBe('TimeoutError');
    expect((deadline.signal.reason as DOMException).message).toBe('No answer within 100 ms.');
  });

  it('never aborts an attempt that finished, and aborts the later ones in their turn', async () => {
    let now = 0;
    const deadlines = new Deadlines(100, () => now);
    const finished = deadlines.start();
    now = 50;
    const later = deadlines.start();
    finished.done();
    now = 120;
    await wait(40);
    expect(finished.signal.aborted).toBe(false);
    expect(later.signal.aborted).toBe(false);
    now = 150;
    await wait(40);
    expect(later.signal.aborted).toBe(true);
  });

  it('keeps up with many attempts, aborting exactly those still running', async () => {
    let now = 0;
    const deadlines = new Deadlines(1_000, () => now);
    const all = Array.from({ length: 5_000 }, (_, i) => {
      now = i / 10;
      return deadlines.start();
    });
    all.forEach((deadline, i) => i % 2 === 0 && deadline.done());
    now = 2_000;
    await wait(250); // a tick is 100 ms for a 1 s limit
    expect(all.filter((d) => d.signal.aborted)).toHaveLength(2_500);
    expect(all.every((d, i) => d.signal.aborted === (i % 2 === 1))).toBe(true);
  });
});
