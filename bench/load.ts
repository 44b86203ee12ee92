import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { Pool } from 'undici';

/** The app every benchmark event comes from, as Altinn names an app's resource and its instances' sources. */
export const benchApp = { org: 'ttd', app: 'bench-app', resource: 'urn:altinn:resource:app_ttd_bench-app' } as const;

/** What happens to an app instance, as Altinn's apps announce it (a few types, unevenly common). */
const instanceTypes = [
  'app.instance.created',
  'app.instance.created',
  'app.instance.process.movedTo.Task_1',
  'app.instance.process.movedTo.Task_2',
  'app.instance.process.completed',
  'app.instance.substatus.changed',
] as const;

/** Parties the events are about: enough that subjects, sources and alternative subjects rarely repeat. */
export const parties = 100_000;
export const firstPartyId = 50_000_000;

const pick = <T>(values: readonly T[]): T => values[Math.floor(Math.random() * values.length)] as T;

/** An 11-digit national identity number for a party, always the same one (ddmmyy and five more digits). */
function personNumber(partyId: number): string {
  const day = String((partyId % 28) + 1).padStart(2, '0');
  const month = String((Math.floor(partyId / 28) % 12) + 1).padStart(2, '0');
  const year = String(partyId % 100).padStart(2, '0');
  return `${day}${month}${year}${String(partyId % 100_000).padStart(5, '0')}`;
}

/**
 * A CloudEvent shaped like the ones Altinn's apps publish (../shared/spec, docs/publish.md): a source per app
 * instance ending in the instance's GUID, a GUID id, `resourceinstance` `{partyId}/{instanceGuid}`, the party as
 * `subject` and the person as `alternativesubject`, spread over 100,000 parties, and about half a kilobyte of
 * `data`. Every id, source and subject is new, so the log's indexes are written at random places, as in
 * production; a benchmark of one fixed source would measure a kinder write path than users have.
 * @param resource the resource URN; subscriptions seeded by bench/setup.ts match none but the ones told to.
 * @param data fields added to the event's data (e.g. a send time).
 */
export function benchEvent(resource: string = benchApp.resource, data: Record<string, unknown> = {}) {
  const instance = randomUUID();
  const partyId = firstPartyId + Math.floor(Math.random() * parties);
  const now = new Date().toISOString();
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: `https://${benchApp.org}.apps.altinn.example/${benchApp.org}/${benchApp.app}/instances/${partyId}/${instance}`,
    type: pick(instanceTypes),
    resource,
    resourceinstance: `${partyId}/${instance}`,
    subject: `/party/${partyId}`,
    alternativesubject: `/person/${personNumber(partyId)}`,
    time: now,
    datacontenttype: 'application/json',
    data: instanceData(partyId, instance, now, data),
  };
}

/** About 500 bytes of JSON, as an app's own event data might carry: the instance's state and its data elements. */
function instanceData(partyId: number, instance: string, now: string, extra: Record<string, unknown>) {
  return {
    instanceId: `${partyId}/${instance}`,
    appId: `${benchApp.org}/${benchApp.app}`,
    instanceOwner: { partyId: String(partyId), personNumber: personNumber(partyId) },
    process: { started: now, currentTask: { elementId: 'Task_1', altinnTaskType: 'data' } },
    status: { isArchived: false, isSoftDeleted: false, readStatus: 'Read' },
    dataElements: [
      { id: randomUUID(), dataType: 'model', size: 1_000 + Math.floor(Math.random() * 9_000) },
      { id: randomUUID(), dataType: 'ref-data-as-pdf', size: 40_000 + Math.floor(Math.random() * 60_000) },
    ],
    ...extra,
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
