/**
 * A webhook receiver for benchmarks, run as its own process so it does not share a core with what it
 * measures. Answers 200 at once, counts deliveries and, for events whose data carries `sentAt`, records the
 * publish-to-delivery latency. `GET /stats` reports; `POST /reset` starts a new measurement.
 */
import { createServer } from 'node:http';

let count = 0;
let firstAt = 0;
let lastAt = 0;
let latencies: number[] = [];
/** When each measured event was sent, beside its latency: whether slow deliveries came together (a stall). */
let sentTimes: number[] = [];

/** Deliveries slower than `ms`: how many, and in how many distinct 100 ms windows of sending they fell. */
function slowerThan(ms: number) {
  const windows = new Set<number>();
  let count = 0;
  latencies.forEach((latency, i) => {
    if (latency <= ms) return;
    count++;
    windows.add(Math.floor((sentTimes[i] ?? 0) / 100));
  });
  const start = Math.min(...sentTimes);
  const sorted = [...windows].sort((a, b) => a - b);
  return { ms, count, windows: windows.size, windowsAtSecond: sorted.map((w) => Number(((w * 100 - start) / 1000).toFixed(1))) };
}

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/stats') {
    const sorted = [...latencies].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;
    response.writeHead(200, { 'content-type': 'application/json' });
    const latency = { n: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? null, slow: slowerThan(50) };
    response.end(JSON.stringify({ count, firstAt, lastAt, latency }));
    return;
  }
  if (request.method === 'POST' && request.url === '/reset') {
    count = 0;
    firstAt = 0;
    lastAt = 0;
    latencies = [];
    sentTimes = [];
    response.end();
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const now = performance.timeOrigin + performance.now();
    count++;
    if (firstAt === 0) firstAt = now;
    lastAt = now;
    const body = Buffer.concat(chunks).toString();
    const sentAt = /"sentAt":([0-9.]+)/.exec(body)?.[1];
    if (sentAt) {
      latencies.push(now - Number(sentAt));
      sentTimes.push(Number(sentAt));
    }
    response.writeHead(200);
    response.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
// The benchmark that forked this receiver is gone (it crashed, or was interrupted) when the IPC channel closes:
// exit with it rather than stay behind listening.
process.on('disconnect', () => process.exit(0));
