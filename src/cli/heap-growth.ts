import { setFlagsFromString } from 'node:v8';

/**
 * Bounds how far each V8 heap in the process grows past what its last full collection kept before it
 * collects again. Left to itself V8 picks up to 300 % when collecting is cheap beside the work, and a busy
 * server's is: measured on SQLite under delivery load, the main thread kept 28 MiB after a full collection
 * and let its old generation reach 120 MiB before the next. At 100 % the process peaked at 212–223 MiB
 * instead of 254–286, for about twice as many full collections: 1–5 % more CPU publishing batches
 * (BENCHMARKS.md, "Memory").
 *
 * V8 reads this flag at every full collection, so setting it once the process runs works (and reaches the
 * connection threads, whose heaps share the process's flags); the young generation's size
 * (`--max-semi-space-size`) is read only when a heap is made, and stays the command line's to set.
 */
export function limitHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
