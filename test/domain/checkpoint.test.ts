import { describe, expect, it } from 'vitest';
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint } from '../../src/domain/checkpoint.js';

const key = new Uint8Array(32).fill(7);
const otherKey = new Uint8Array(32).fill(8);
const base64url = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The token with the character at `index` changed to its neighbour in the base64url alphabet. */
function flip(token: string, index: number): string {
  const char = token[index] ?? '';
  const position = base64url.indexOf(char);
  // XOR 1 flips the lowest bit of a base64 character: for the signature's last character that bit carries no data.
  const replacement = position < 0 ? '_' : (base64url[position ^ 1] as string);
  return token.slice(0, index) + replacement + token.slice(index + 1);
}

describe('encodeCheckpoint and decodeCheckpoint', () => {
  it.each<Checkpoint>([
    { subscriptionId: 1, deliveryId: 0, epoch: 0 },
    { subscriptionId: 7, deliveryId: 1042, epoch: 3 },
    { subscriptionId: 999_999_999_999_999, deliveryId: 999_999_999_999_999, epoch: 999_999_999 },
  ])('reads back what it wrote: %o', (checkpoint) => {
    const token = encodeCheckpoint(checkpoint, key);
    expect(decodeCheckpoint(token, key)).toEqual(checkpoint);
  });

  it('writes an opaque token of URL-safe characters only', () => {
    const token = encodeCheckpoint({ subscriptionId: 7, deliveryId: 1042, epoch: 0 }, key);
    expect(token).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(encodeURIComponent(token)).toBe(token);
  });

  it('is deterministic for one key and differs between keys', () => {
    const checkpoint = { subscriptionId: 7, deliveryId: 1042, epoch: 0 };
    expect(encodeCheckpoint(checkpoint, key)).toBe(encodeCheckpoint(checkpoint, key));
    expect(encodeCheckpoint(checkpoint, key)).not.toBe(encodeCheckpoint(checkpoint, otherKey));
  });

  it('refuses a token signed with another key', () => {
    const token = encodeCheckpoint({ subscriptionId: 7, deliveryId: 1042, epoch: 0 }, otherKey);
    expect(decodeCheckpoint(token, key)).toBeUndefined();
  });

  it('refuses every single-character change, including the signature padding bits', () => {
    const token = encodeCheckpoint({ subscriptionId: 12, deliveryId: 3456, epoch: 1 }, key);
    for (let index = 0; index < token.length; index++) {
      const changed = flip(token, index);
      expect(changed).not.toBe(token);
      expect(decodeCheckpoint(changed, key), `changed at ${index}: ${changed}`).toBeUndefined();
    }
  });

  it("refuses one checkpoint's fields under another's signature", () => {
    const mine = encodeCheckpoint({ subscriptionId: 1, deliveryId: 10, epoch: 0 }, key);
    const theirs = encodeCheckpoint({ subscriptionId: 2, deliveryId: 10, epoch: 0 }, key);
    const signature = (token: string) => token.slice(token.lastIndexOf('.') + 1);
    expect(decodeCheckpoint(`c1.2.10.0.${signature(mine)}`, key)).toBeUndefined();
    expect(decodeCheckpoint(`c1.1.10.0.${signature(theirs)}`, key)).toBeUndefined();
    expect(decodeCheckpoint(`c1.1.99.0.${signature(mine)}`, key)).toBeUndefined();
  });

  it('refuses a field written differently (leading zeros) under the original signature', () => {
    const token = encodeCheckpoint({ subscriptionId: 1, deliveryId: 10, epoch: 0 }, key);
    expect(decodeCheckpoint(token.replace('c1.1.10.', 'c1.01.10.'), key)).toBeUndefined();
    expect(decodeCheckpoint(token.replace('c1.1.10.', 'c1.1.010.'), key)).toBeUndefined();
  });

  it.each([
    '',
    'garbage',
    'c1',
    'c1.1.1.0',
    'c1.1.1.0.',
    'c1.1.1.0.AAAAAAAAAAAAAAAAAAAAAA',
    'c2.1.1.0.AAAAAAAAAAAAAAAAAAAAAA',
    'c1.-1.1.0.AAAAAAAAAAAAAAAAAAAAAA',
    'c1.1.1.5.AAAAAAAAAAAAAAAAAAAAA',
    'c1.1.1.0.AAAAAAAAAAAAAAAAAAAAAAA',
    'c1.1.1.0.AAAAAAAAAAAAAAAAAAAA==',
    'c1.1234567890123456.1.0.AAAAAAAAAAAAAAAAAAAAAA',
    'c1.1.1.1234567890.AAAAAAAAAAAAAAAAAAAAAA',
  ])('refuses the malformed token %j', (token) => {
    expect(decodeCheckpoint(token, key)).toBeUndefined();
  });

  it('refuses a valid token with anything around it', () => {
    const token = encodeCheckpoint({ subscriptionId: 1, deliveryId: 10, epoch: 0 }, key);
    for (const changed of [` ${token}`, `${token} `, `${token}\n`, `${token}.`, `x${token}`, token.toUpperCase()]) {
      expect(decodeCheckpoint(changed, key), JSON.stringify(changed)).toBeUndefined();
    }
  });
});
