import { setTimeout as sleep } from 'node:timers/promises';
import { type Dispatcher, Pool } from 'undici';
import type { BenchEngine } from '../engines.js';
import { benchApp, benchEvent } from '../load.js';
import { describeProbe, type ProbeSample, type ProbeSummary, startProbe, summariseProbe } from '../probes.js';
import { type Child, startHerald } from '../processes.js';
import { seedLog } from '../seed-log.js';
import { benchToken, heraldEnv, seedSubscriptions } from '../setup.js';

const api = '/events/api/v1';
/** Each probe sends a request this often, answered or not: 40 a second each. */
const probeIntervalMs = 25;
/** Connections each probe keeps open: far more than it needs while Herald answers in a few milliseconds. */
const probeConnections = 16;
/** The bystander's events: no subscription matches them, so its publishes cost only their own commit. */
const bystanderResource = 'urn:altinn:resource:bench-bystander';
const fanOutResource = 'urn:altinn:resource:bench-fanout';
const fanOut = { consumers: 3, subscriptions: 900, batch: 500 } as const;

const drain = async (response: Response) => {
  await response.arrayBuffer();
  return response.ok;
};

/**
 * Another consumer's single publishes, and `/health`, sent at a steady rate whatever Herald is doing. Each probe
 * has its own pool of connections, opened while Herald answers: a request finding them all busy waits in the
 * pool, and that wait counts, as a client's would. (New connections to a stalled process overflow its accept
 * queue, and undici gives up on them after 10 s, which would cut the longest waits short.)
 */
async function startProbes(herald: Child) {
  const headers = { authorization: `Bearer ${await benchToken('bystander')}`, 'content-type': 'application/cloudevents+json' };
  const pools = [new Pool(herald.url, { connections: probeConnections }), new Pool(herald.url, { connections: probeConnections })] as const;
  const answer = async (response: Dispatcher.ResponseData) => {
    await response.body.dump();
    return response.statusCode;
  };
  const publish = startProbe(
    async () => answer(await pools[0].request({ method: 'POST', path: `${api}/events`, headers, body: JSON.stringify(benchEvent(bystanderResource)) })),
    probeIntervalMs,
  );
  const health = startProbe(async () => answer(await pools[1].request({ method: 'GET', path: '/health' })), probeIntervalMs);
  return {
    async stop(): Promise<{ publish: ProbeSample[]; health: ProbeSample[] }> {
      const [publishSamples, healthSamples] = await Promise.all([publish.stop(), health.stop()]);
      await Promise.all(pools.map((pool) => pool.close()));
      return { publish: publishSamples, health: healthSamples };
    },
  };
}

/** The probes alone for a while: the first second warms Herald up and is dropped, the rest is the baseline. */
async function baseline(herald: Child, seconds: number) {
  const probes = await startProbes(herald);
  await sleep((1 + seconds) * 1_000);
  const samples = await probes.stop();
  const window = { from: (samples.health[0]?.startedAt ?? 0) + 1_000, to: Number.POSITIVE_INFINITY };
  return { publish: summariseProbe(samples.publish, window), health: summariseProbe(samples.health, window) };
}

/**
 * The polls issue 13 found stalling Herald: each matches nothing, no index serves its filter, and each client
 * asks again from the start of the log as soon as it is answered (the most a client can ask for). Four carry a
 * hundred `type=%…%` patterns on the app's resource; one has only `source=%nomatch`.
 */
function expensivePolls(): URLSearchParams[] {
  const types = new URLSearchParams({ after: '0', resource: benchApp.resource, size: '1000' });
  for (let i = 0; i < 100; i++) types.append('type', `%instance.nomatch-${i}%`);
  return [types, types, types, types, new URLSearchParams({ after: '0', source: '%nomatch', size: '1000' })];
}

function startPollers(herald: Child, authorizations: readonly string[]) {
  let running = true;
  const pollMs: number[] = [];
  let failed = 0;
  const loops = expensivePolls().map(async (query, i) => {
    const headers = { authorization: authorizations[i] ?? '' };
    while (running) {
      const started = performance.now();
      const ok = await fetch(`${herald.url}${api}/events?${query}`, { headers }).then(drain, () => false);
      pollMs.push(performance.now() - started);
      if (!ok) {
        failed++;
        await sleep(10);
      }
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      const sorted = pollMs.sort((a, b) => a - b);
      return { polls: sorted.length, failed, p50Ms: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN, maxMs: sorted.at(-1) ?? Number.NaN };
    },
  };
}

/** (a) Another consumer's publishes and `/health` while five clients run unindexable polls of a large log. */
async function pollStalls(engine: BenchEngine, quick: boolean) {
  const count = quick ? 50_000 : 200_000;
  const seconds = quick ? 3 : 10;
  const db = await engine.create();
  const seedSeconds = await seedLog(db.database, count, benchApp.resource);
  const herald = await startHerald(heraldEnv(db.database));
  try {
    const alone = await baseline(herald, quick ? 1 : 3);
    const authorizations = await Promise.all(expensivePolls().map(async (_, i) => `Bearer ${await benchToken(`poller-${i + 1}`)}`));
    const pollers = startPollers(herald, authorizations);
    const probes = await startProbes(herald);
    await sleep(seconds * 1_000);
    // The probes stop first, so the last of them are answered while the polls still run.
    const samples = await probes.stop();
    const polls = await pollers.stop();
    return {
      events: count,
      seedSeconds,
      seconds,
      baseline: alone,
      polls,
      publish: summariseProbe(samples.publish),
      health: summariseProbe(samples.health),
      peakRssMiB: herald.peakRssMiB(),
    };
  } finally {
    await herald.stop();
    await db.drop();
  }
}

/** The org of the fan-out's `i`th subscription: the three consumers take turns. */
const fanOutOrg = (i: number) => `fanout-${(i % fanOut.consumers) + 1}`;

/**
 * Pull subscriptions that all match every event of the fan-out resource. Identical filters of one consumer
 * would be one subscription, so each has its own source pattern: the fixed start of the app's instance sources
 * with a different stretch of it replaced by `%`, every one matching every instance.
 */
function fanOutSubscriptions() {
  const start = `https://${benchApp.org}.apps.altinn.example/${benchApp.org}/${benchApp.app}/instances/`;
  const patterns: string[] = [];
  for (let cut = 'https://'.length; cut < start.length; cut++) {
    for (let resume = cut + 1; resume <= start.length; resume++) patterns.push(`${start.slice(0, cut)}%${start.slice(resume)}%`);
  }
  if (patterns.length < fanOut.subscriptions) throw new Error(`only ${patterns.length} distinct source patterns`);
  return patterns
    .slice(0, fanOut.subscriptions)
    .map((source, i) => ({ endpoint: null, resource: fanOutResource, source, consumer: `/org/${fanOutOrg(i)}` }));
}

/** The `code` of a problem answer (a refused fan-out names why), or what the answer began with. */
function problemCode(answer: string): string {
  try {
    return (JSON.parse(answer) as { code?: string }).code ?? answer.slice(0, 80);
  } catch {
    return answer.slice(0, 80);
  }
}

/** How many events a pull subscription holds queued (at most 5,000: one page, nothing acknowledged). */
async function queued(herald: Child, subscriptionId: number, authorization: string): Promise<number> {
  const response = await fetch(`${herald.url}${api}/subscriptions/${subscriptionId}/events?limit=5000`, { headers: { authorization } });
  if (!response.ok) throw new Error(`pull failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { events: unknown[] }).events.length;
}

/**
 * (b) `/health` and another consumer's publishes while one batch fans out to 900 pull subscriptions. The
 * window runs from sending the batch until every consumer's last subscription holds its events, so work Herald
 * does after answering counts too.
 */
async function fanOutStalls(engine: BenchEngine, quick: boolean) {
  const rounds = quick ? 1 : 3;
  const db = await engine.create();
  const specs = fanOutSubscriptions();
  const ids = await seedSubscriptions(db.database, specs.length, specs);
  const herald = await startHerald(heraldEnv(db.database));
  try {
    const alone = await baseline(herald, 1);
    const publisher = { authorization: `Bearer ${await benchToken('ttd')}`, 'content-type': 'application/cloudevents-batch+json' };
    // The last subscription of each consumer: the last to be written, if the rows are written in order.
    const watched = await Promise.all(
      Array.from({ length: fanOut.consumers }, async (_, c) => {
        const i = ids.length - fanOut.consumers + c;
        return { id: ids[i] ?? 0, authorization: `Bearer ${await benchToken(fanOutOrg(i))}` };
      }),
    );
    const batches: { status: number; code: string | undefined; answeredMs: number; queuedMs: number }[] = [];
    const publish: ProbeSample[] = [];
    const health: ProbeSample[] = [];
    for (let round = 1; round <= rounds; round++) {
      const probes = await startProbes(herald);
      await sleep(500);
      const body = JSON.stringify(Array.from({ length: fanOut.batch }, () => benchEvent(fanOutResource)));
      const from = performance.now();
      const response = await fetch(`${herald.url}${api}/events`, { method: 'POST', headers: publisher, body });
      const answer = await response.text();
      const answeredMs = performance.now() - from;
      if (response.ok) {
        for (const { id, authorization } of watched) {
          while ((await queued(herald, id, authorization)) < round * fanOut.batch) await sleep(50);
        }
      }
      const to = performance.now();
      await sleep(500);
      const samples = await probes.stop();
      const inWindow = (s: ProbeSample) => s.startedAt <= to && s.startedAt + s.ms >= from;
      publish.push(...samples.publish.filter(inWindow));
      health.push(...samples.health.filter(inWindow));
      const code = response.ok ? undefined : problemCode(answer);
      batches.push({ status: response.status, code, answeredMs, queuedMs: to - from });
    }
    return {
      ...fanOut,
      baseline: alone,
      batches,
      publish: summariseProbe(publish),
      health: summariseProbe(health),
      peakRssMiB: herald.peakRssMiB(),
    };
  } finally {
    await herald.stop();
    await db.drop();
  }
}

const ms = (value: number) => (value >= 1_000 ? `${(value / 1_000).toFixed(2)} s` : `${value.toFixed(1)} ms`);
const brief = (summary: ProbeSummary) => `p50 ${ms(summary.p50Ms)}, p99 ${ms(summary.p99Ms)}`;

/** Stalls (issue 13): what one consumer's expensive requests cost everyone else. */
export async function stallScenarios(engine: BenchEngine, quick: boolean) {
  const polls = await pollStalls(engine, quick);
  const fan = await fanOutStalls(engine, quick);
  const answered = fan.batches.map((b) => (b.code ? `${b.status} ${b.code}` : String(b.status))).join(', ');
  return {
    results: { polls, fanOut: fan },
    table: [
      [
        'publish while 5 polls scan',
        `p50 ${ms(polls.publish.p50Ms)}`,
        `another consumer's single publishes: ${describeProbe(polls.publish)} (alone: ${brief(polls.baseline.publish)}); ${polls.polls.polls} polls answered (${polls.polls.failed} failed) in p50 ${ms(polls.polls.p50Ms)}, max ${ms(polls.polls.maxMs)}, on a log of ${polls.events} events (written in ${polls.seedSeconds.toFixed(0)} s), for ${polls.seconds} s`,
      ],
      [
        '/health while 5 polls scan',
        `max ${ms(polls.health.maxMs)}`,
        `${describeProbe(polls.health)} (alone: ${brief(polls.baseline.health)}); peak RSS ${polls.peakRssMiB.toFixed(0)} MiB`,
      ],
      [
        `fan-out ${fanOut.batch} events x ${fanOut.subscriptions} subs`,
        `${ms(Math.max(...fan.batches.map((b) => b.answeredMs)))}`,
        `slowest answer of ${fan.batches.length} (answered ${answered}); queued for every consumer within ${fan.batches.map((b) => ms(b.queuedMs)).join(', ')}; peak RSS ${fan.peakRssMiB.toFixed(0)} MiB`,
      ],
      [
        '/health during the fan-out',
        `max ${ms(fan.health.maxMs)}`,
        `${describeProbe(fan.health)}; another consumer's publishes ${describeProbe(fan.publish)} (alone: ${brief(fan.baseline.publish)})`,
      ],
    ] as [string, string, string][],
  };
}
