import { Agent, request } from 'undici';
import { dispatchLimits } from '../../src/delivery/dispatcher.js';
import type { BenchEngine } from '../engines.js';
import { benchEvent, pacedLoad } from '../load.js';
import { sampleWaits, waitsNote } from '../pg-waits.js';
import { type Child, startHelper, startHerald } from '../processes.js';
import { benchToken, heraldEnv, seedSubscriptions } from '../setup.js';

const resource = 'urn:altinn:resource:bench-delivery';
const subscriptions = 8;
/** Herald's dispatcher sends at most this many at once; the bare loop gets the same. */
const concurrency = dispatchLimits.maxInFlight;

interface ReceiverStats {
  count: number;
  firstAt: number;
  lastAt: number;
  latency: {
    n: number;
    p50: number | null;
    p99: number | null;
    max: number | null;
    slow: { ms: number; count: number; windows: number; windowsAtSecond: number[] };
  };
}

const stats = async (receiver: Child) => (await (await fetch(`${receiver.url}/stats`)).json()) as ReceiverStats;
const reset = (receiver: Child) => fetch(`${receiver.url}/reset`, { method: 'POST' });

async function waitForCount(receiver: Child, count: number, timeoutMs: number): Promise<ReceiverStats> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await stats(receiver);
    if (current.count >= count || Date.now() > deadline) return current;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Herald's event-loop delay since the previous scrape of its metrics (prom-client's default metrics), in ms. */
async function eventLoopDelay(heraldUrl: string): Promise<{ p99: number | null; max: number | null }> {
  const text = await (await fetch(`${heraldUrl}/metrics`)).text();
  const read = (name: string) => {
    const value = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text)?.[1];
    return value === undefined ? null : Number(value) * 1000;
  };
  return { p99: read('nodejs_eventloop_lag_p99_seconds'), max: read('nodejs_eventloop_lag_max_seconds') };
}

/** Whether the slow deliveries came together (a stall somewhere) or spread over the run (queueing). */
function slowSummary(slow: ReceiverStats['latency']['slow']): string {
  if (slow.count === 0) return `none over ${slow.ms} ms`;
  const at = slow.windowsAtSecond.slice(0, 5).join(', ');
  return `${slow.count} over ${slow.ms} ms, sent in ${slow.windows} windows of 100 ms (at ${at}${slow.windows > 5 ? ', …' : ''} s)`;
}

/** The ceiling for delivery: plain undici POSTs to the same receiver, as many at once as Herald sends. */
async function bareUndiciLoop(receiver: Child, total: number) {
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 30_000 });
  const body = JSON.stringify(benchEvent(resource));
  let sent = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (sent < total) {
        sent++;
        const response = await request(`${receiver.url}/hook/${worker % subscriptions}`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/cloudevents+json' },
          dispatcher: agent,
        });
        await response.body.dump();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  await agent.close();
  // The sender's CPU per request: this benchmark process does nothing else meanwhile.
  return { deliveries: total, perSecond: total / seconds, cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / total };
}

/** Delivery: throughput draining a backlog to a local receiver, and publish-to-delivery latency at a steady rate. */
export async function deliveryScenarios(engine: BenchEngine, quick: boolean) {
  const token = await benchToken();
  const receiver = await startHelper('receiver-process.ts');
  const total = quick ? 4_000 : 40_000;

  await reset(receiver);
  const bare = await bareUndiciLoop(receiver, total);

  // Throughput: a backlog of events, each delivered to 8 subscriptions.
  const db = await engine.create();
  await seedSubscriptions(
    db.database,
    subscriptions,
    Array.from({ length: subscriptions }, (_, i) => ({ endpoint: `${receiver.url}/hook/${i}`, resource })),
  );
  const herald = await startHerald(heraldEnv(db.database));
  await reset(receiver);
  const heraldCpuBefore = herald.cpuSeconds();
  // On PostgreSQL, what the database's backends wait on meanwhile (the side Herald's CPU profile cannot see).
  const drainWaits = engine.name !== 'sqlite' ? sampleWaits(db.database) : undefined;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/cloudevents-batch+json' };
  for (let published = 0; published < total / subscriptions; published += 100) {
    const response = await fetch(`${herald.url}/events/api/v1/events`, {
      method: 'POST',
      headers,
      body: JSON.stringify(Array.from({ length: 100 }, () => benchEvent(resource))),
    });
    if (!response.ok) throw new Error(`publish failed: ${response.status}`);
  }
  const drained = await waitForCount(receiver, total, 300_000);
  const heraldPerSecond = drained.count / ((drained.lastAt - drained.firstAt) / 1000);
  const drainRss = herald.peakRssMiB();
  const drainWaitProfile = await drainWaits?.stop();
  // Publishing the backlog is in it too: about 0.02 ms per event, a fortieth of the deliveries' share.
  const cpuMsPerDelivery = ((herald.cpuSeconds() - heraldCpuBefore) * 1000) / drained.count;
  await herald.stop();
  await db.drop();

  // Latency: one subscription, single-event publishes at a steady 1,000 events/s.
  const latencyDb = await engine.create();
  await seedSubscriptions(latencyDb.database, 1, [{ endpoint: `${receiver.url}/hook/latency`, resource }]);
  const latencyHerald = await startHerald(heraldEnv(latencyDb.database));
  // One second of the same load first, not measured: the figure is the steady state, not the first requests
  // of a cold process (code not yet optimised, statements not yet prepared, connections not yet open).
  const warmUp = await pacedLoad({
    url: `${latencyHerald.url}/events/api/v1/events`,
    headers: { ...headers, 'content-type': 'application/cloudevents+json' },
    body: () => JSON.stringify(benchEvent(resource)),
    connections: 20,
    seconds: 1,
    rate: 1_000,
  });
  await waitForCount(receiver, Math.round(warmUp.requestsPerSecond), 30_000);
  await reset(receiver);
  // Herald's event-loop delay is reported since the previous scrape: this one starts the measured window.
  await eventLoopDelay(latencyHerald.url);
  const latencyWaits = engine.name !== 'sqlite' ? sampleWaits(latencyDb.database) : undefined;
  const load = await pacedLoad({
    url: `${latencyHerald.url}/events/api/v1/events`,
    headers: { ...headers, 'content-type': 'application/cloudevents+json' },
    body: () => JSON.stringify(benchEvent(resource, { sentAt: performance.timeOrigin + performance.now() })),
    connections: 20,
    seconds: quick ? 2 : 10,
    rate: 1_000,
  });
  const published = Math.round(load.requestsPerSecond * (quick ? 2 : 10));
  const steady = await waitForCount(receiver, published, 30_000);
  const loopDelay = await eventLoopDelay(latencyHerald.url);
  const latencyWaitProfile = await latencyWaits?.stop();
  const latencyRss = latencyHerald.peakRssMiB();
  await latencyHerald.stop();
  await latencyDb.drop();
  await receiver.stop();

  const ms = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(1)} ms`);
  return {
    results: {
      bareUndici: bare,
      delivery: { deliveries: drained.count, perSecond: heraldPerSecond, peakRssMiB: drainRss, cpuMsPerDelivery, databaseWaits: drainWaitProfile },
      latency: {
        rate: load.requestsPerSecond,
        delivered: steady.count,
        ...steady.latency,
        publishAnswered: { p50: load.p50Ms, p99: load.p99Ms },
        heraldEventLoopDelay: loopDelay,
        databaseWaits: latencyWaitProfile,
        peakRssMiB: latencyRss,
      },
    },
    table: [
      ['bare undici loop (ceiling)', `${Math.round(bare.perSecond)} req/s`, `${concurrency} in flight, sender CPU ${bare.cpuMsPerRequest.toFixed(3)} ms/request`],
      [
        'webhook deliveries',
        `${Math.round(heraldPerSecond)} /s`,
        `${(heraldPerSecond / bare.perSecond).toFixed(2)} x ceiling, ${drained.count} delivered, peak RSS ${drainRss.toFixed(0)} MiB, CPU ${cpuMsPerDelivery.toFixed(3)} ms/delivery${waitsNote(drainWaitProfile)}`,
      ],
      [
        'publish->delivery p50',
        ms(steady.latency.p50),
        `at ${Math.round(load.requestsPerSecond)} events/s, ${steady.count} delivered; the publishes were answered in p50 ${ms(load.p50Ms)}, p99 ${ms(load.p99Ms)}`,
      ],
      [
        'publish->delivery p99',
        ms(steady.latency.p99),
        `max ${ms(steady.latency.max)}, peak RSS ${latencyRss.toFixed(0)} MiB; ${slowSummary(steady.latency.slow)}; Herald's event loop: p99 ${ms(loopDelay.p99)}, max ${ms(loopDelay.max)}${waitsNote(latencyWaitProfile)}`,
      ],
    ] as [string, string, string][],
  };
}
