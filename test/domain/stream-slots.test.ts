import { describe, expect, it } from 'vitest';
import { type StreamSlot, StreamSlots } from '../../src/domain/stream-slots.js';

const taken = (slot: ReturnType<StreamSlots['take']>): StreamSlot => {
  if ('full' in slot) throw new Error(`refused: ${slot.full}`);
  return slot;
};

describe('StreamSlots', () => {
  it("refuses a consumer's stream beyond its bound while another consumer still opens", () => {
    const slots = new StreamSlots({ perConsumer: 2, perProcess: 10 });
    taken(slots.take('/org/a'));
    taken(slots.take('/org/a'));
    expect(slots.take('/org/a')).toEqual({ full: 'consumer' });
    taken(slots.take('/org/b'));
    expect(slots.size).toBe(3);
  });

  it("refuses every consumer once the process holds its bound", () => {
    const slots = new StreamSlots({ perConsumer: 5, perProcess: 2 });
    taken(slots.take('/org/a'));
    taken(slots.take('/org/b'));
    expect(slots.take('/org/c')).toEqual({ full: 'process' });
  });

  it('frees a slot on release, once however often it is released, and forgets consumers with none', () => {
    const slots = new StreamSlots({ perConsumer: 1, perProcess: 10 });
    const slot = taken(slots.take('/org/a'));
    const other = taken(slots.take('/org/b'));
    slot.release();
    slot.release();
    expect(slots.heldBy('/org/a')).toBe(0);
    expect(slots.heldBy('/org/b')).toBe(1);
    expect(slots.size).toBe(1);
    taken(slots.take('/org/a'));
    other.release();
    expect(slots.size).toBe(1);
  });
});
