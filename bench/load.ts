import autocannon from 'autocannon';

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
