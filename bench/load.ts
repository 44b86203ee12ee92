import autocannon from 'autocannon';
import { Pool } from 'undici';

let counter = 0;

/** A CloudEvent for load: unique id, a resource no subscription matches unless told, small data. */
export function benchEvent(resource = 'urn:altinn:resource:bench', data: Record<string, unknown> = {}) {
  counter++;
  return {
    specversion: '1.0',
    id: `bench-${process.pid}-${Date.now()}-${counter}`,
    source: 'https://bench.example/orders/instances/1',
    type: 'bench.order.created',
    resource,
    subject: '/party/50001',
    time: new Date().toISOString(),
    data: { orderNumber: counter, ...data },
  };
}

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
}

/** Drives POSTs with autocannon; `body` makes each request's body when it is sent. */
export async function postLoad(options: {
  url: string;
  headers: Record<string, string>;
  body: () => string;
  connections: number;
  seconds: number;
  overallRate?: number;
}): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    method: 'POST',
    connections: options.connections,
    duration: options.seconds,
    headers: options.headers,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    requests: [{ setupRequest: (request) => ({ ...request, body: options.body() }) }],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/**
 * POSTs at a steady rate, each body made the moment its request is sent (so a timestamp in it is the send
 * time). autocannon's `overallRate` paces in bursts, and a body it builds waits in its queue, which would be
 * counted as Herald's latency. Requests are spread over `connections` kept-alive connections.
 */
export async function pacedLoad(options: {
  url: string;
  headers: Record<string, string>;
  body: () => string;
  connections: number;
  seconds: number;
  rate: number;
}): Promise<LoadResult> {
  const pool = new Pool(new URL(options.url).origin, { connections: options.connections, pipelining: 1 });
  const path = new URL(options.url).pathname;
  const latencies: number[] = [];
  let sent = 0;
  let non2xx = 0;
  let errors = 0;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  const total = Math.round(options.rate * options.seconds);
  const send = () => {
    const at = performance.now();
    const request = pool
      .request({ method: 'POST', path, headers: options.headers, body: options.body() })
      .then(async (response) => {
        await response.body.dump();
        if (response.statusCode < 200 || response.statusCode > 299) non2xx++;
        latencies.push(performance.now() - at);
      })
      .catch(() => {
        errors++;
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * options.rate));
      while (sent < due) {
        sent++;
        send();
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { requestsPerSecond: sent / seconds, p50Ms: at(0.5), p99Ms: at(0.99), non2xx, errors };
}
