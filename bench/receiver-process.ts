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

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/stats') {
    const sorted = [...latencies].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ count, firstAt, lastAt, latency: { n: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? null } }));
    return;
  }
  if (request.method === 'POST' && request.url === '/reset') {
    count = 0;
    firstAt = 0;
    lastAt = 0;
    latencies = [];
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
    if (sentAt) latencies.push(now - Number(sentAt));
    response.writeHead(200);
    response.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
