import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Where a pull subscription's reader stands: everything up to `deliveryId` in the subscription's queue, read
 * in checkpoint epoch `epoch` (which moves on when the subscription goes inactive).
 */
export interface Checkpoint {
  readonly subscriptionId: number;
  readonly deliveryId: number;
  readonly epoch: number;
}

const version = 'c1';
const macBytes = 16;

/**
 * Writes a checkpoint as an opaque, signed token. The signature makes it tamper-evident: a client cannot
 * acknowledge more than it was given, or use one subscription's checkpoint on another.
 * @example encodeCheckpoint({ subscriptionId: 7, deliveryId: 1042, epoch: 0 }, key) // 'c1.7.1042.0.Xy…'
 */
export function encodeCheckpoint(checkpoint: Checkpoint, key: Uint8Array): string {
  const body = `${version}.${checkpoint.subscriptionId}.${checkpoint.deliveryId}.${checkpoint.epoch}`;
  return `${body}.${mac(body, key).toString('base64url')}`;
}

/** @returns the checkpoint, or `undefined` when the token is malformed or its signature does not match. */
export function decodeCheckpoint(token: string, key: Uint8Array): Checkpoint | undefined {
  const match = /^(c1\.(\d{1,15})\.(\d{1,15})\.(\d{1,9}))\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!match) return undefined;
  const [, body = '', subscriptionId, deliveryId, epoch, signature = ''] = match;
  // Compared as text, not as decoded bytes: 22 base64url characters carry 132 bits for a 128-bit MAC, and
  // decoding ignores the 4 spare bits, so several spellings of the last character would all be accepted.
  const given = Buffer.from(signature, 'ascii');
  const expected = Buffer.from(mac(body, key).toString('base64url'), 'ascii');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return { subscriptionId: Number(subscriptionId), deliveryId: Number(deliveryId), epoch: Number(epoch) };
}

function mac(body: string, key: Uint8Array): Buffer {
  return createHmac('sha256', key).update(body).digest().subarray(0, macBytes);
}
