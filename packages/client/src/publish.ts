import { HeraldProblemError } from './problem.js';
import type { RetryPolicy } from './retry.js';
import type { Transport } from './transport.js';
import type { CloudEvent, EventToPublish } from './types.js';

/** Herald's defaults (docs/publish.md): 256 KiB per event, 1 MiB per request. */
export const publishLimits = { maxBatchEvents: 1000, maxBatchBytes: 1024 * 1024 } as const;

export interface PublishOptions {
  /** Events per request at most. Default 1000. */
  readonly maxBatchEvents?: number;
  /** Bytes per request at most (the JSON array); Herald's HERALD_MAX_REQUEST_SIZE, 1 MiB by default. */
  readonly maxBatchBytes?: number;
  readonly retry?: Partial<RetryPolicy>;
  readonly signal?: AbortSignal;
}

export interface PublishResult {
  /** The events as sent, with the `id` and `specversion` filled in where they were left out. */
  readonly events: readonly CloudEvent[];
  /** Requests it took (a batch Herald found too large, 413, is sent again in halves). */
  readonly requests: number;
}

const encoder = new TextEncoder();

/**
 * Publishes one event (structured mode) or many (batch mode, in requests bounded by count and bytes). Each
 * event gets its `id` once, before the first try, so every retry repeats the same (`source`, `id`) and Herald,
 * idempotent on that pair, stores each event once. Resolves when every event is durably stored.
 */
export async function publishEvents(
  transport: Transport,
  input: EventToPublish | readonly EventToPublish[],
  options: PublishOptions = {},
): Promise<PublishResult> {
  const events = (Array.isArray(input) ? input : [input]).map(complete);
  const retry = { ...transport.retry, ...options.retry };
  const send = (body: string, contentType: string) =>
    transport.send({ method: 'POST', path: '/events', body, contentType, idempotent: true, retry, signal: options.signal });
  if (!Array.isArray(input)) {
    await send(JSON.stringify(events[0]), 'application/cloudevents+json; charset=utf-8');
    return { events, requests: 1 };
  }
  let requests = 0;
  // A Herald configured with a smaller request limit than the client assumes answers 413: halve and go on.
  const sendBatch = async (batch: readonly string[]): Promise<void> => {
    try {
      requests += 1;
      await send(`[${batch.join(',')}]`, 'application/cloudevents-batch+json; charset=utf-8');
    } catch (error) {
      if (!(error instanceof HeraldProblemError && error.status === 413 && batch.length > 1)) throw error;
      const half = Math.ceil(batch.length / 2);
      await sendBatch(batch.slice(0, half));
      await sendBatch(batch.slice(half));
    }
  };
  for (const batch of batchesOf(events.map((event) => JSON.stringify(event)), options)) await sendBatch(batch);
  return { events, requests };
}

/** Groups serialized events into requests of at most `maxBatchEvents` events and `maxBatchBytes` bytes. */
export function batchesOf(serialized: readonly string[], options: PublishOptions = {}): string[][] {
  const maxEvents = options.maxBatchEvents ?? publishLimits.maxBatchEvents;
  const maxBytes = options.maxBatchBytes ?? publishLimits.maxBatchBytes;
  const batches: string[][] = [];
  let current: string[] = [];
  let bytes = 2; // the brackets
  for (const text of serialized) {
    const size = encoder.encode(text).length + 1; // and its comma
    // An event too large for any batch goes alone: Herald then says why (413), rather than the client guessing.
    if (current.length > 0 && (current.length >= maxEvents || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 2;
    }
    current.push(text);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function complete(event: EventToPublish): CloudEvent {
  return { ...event, specversion: event.specversion ?? '1.0', id: event.id ?? crypto.randomUUID() } as CloudEvent;
}
