/**
 * `node --import tsx bench/processes-scale.ts [--processes 1,2,4] [--seconds 10]`: how publishing, delivering and
 * polling grow with the number of `herald serve` processes sharing one PostgreSQL database (docs/scaling.md).
 * Build first (`npm run build`). Each figure is printed with the machine's load average beside it: on a shared
 * machine a rate means little without it. PostgreSQL at HERALD_TEST_POSTGRES_URL (the tests' server).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { postgresEngine } from './engines.js';
import { benchEvent, postLoad } from './load.js';
import { describeWaits, sampleWaits } from './pg-waits.js';
import { type Child, startHelper, startHerald } from './processes.js';
import { seedLog } from './seed-log.js';
import { benchToken, heraldEnv, seedSubscriptions } from './setup.js';

const { values } = parseArgs({
  options: {
    processes: { type: 'string', default: '1,2,4' },
    seconds: { type: 'string', default: '10' },
    only: { type: 'string' },
  },
});
const counts = (values.processes ?? '1,2,4').split(',').map(Number);
const seconds = Number(values.seconds);
const only = values.only?.split(',');
const wanted = (group: string) => !only || only.includes(group);
const engine = postgresEngine(process.env.HERALD_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test');
const token = await benchToken();
const load = () => loadavg().map((n) => n.toFixed(1)).join(' ');

async function heralds(database: string, n: number): Promise<Child[]> {
  const started: Child[] = [];
  for (let i = 0; i < n; i++) started.push(await startHerald(heraldEnv(database)));
  return started;
}

const line = (what: string, n: number, figure: string, notes: string) =>
  process.stdout.write(`| ${what} | ${n} | ${figure} | ${notes}; load average before ${loadBefore} |\n`);
let loadBefore = '';

process.stdout.write('| scenario | processes | result | notes |\n|---|---:|---:|---|\n');

/** Publishing over HTTP, the load spread evenly over the processes. */
async function publish(n: number, batch: number, connections: number) {
  const db = await engine.create();
  await seedSubscriptions(db.database, 10, []);
  const running = await heralds(db.database, n);
  loadBefore = load();
  const waits = sampleWaits(db.database);
  const body = batch === 1 ? () => JSON.stringify(benchEvent()) : () => JSON.stringify(Array.from({ length: batch }, () => benchEvent()));
  const type = batch === 1 ? 'application/cloudevents+json' : 'application/cloudevents-batch+json';
  const results = await Promise.all(
    running.map((herald) =>
      postLoad({
        url: `${herald.url}/events/api/v1/events`,
        headers: { authorization: `Bearer ${token}`, 'content-type': type },
        body,
        connections: Math.max(1, Math.round(connections / n)),
        seconds,
      }),
    ),
  );
  const profile = await waits.stop();
  const perSecond = results.reduce((sum, r) => sum + r.requestsPerSecond, 0) * batch;
  const failed = results.reduce((sum, r) => sum + r.non2xx + r.errors, 0);
  const p99 = Math.max(...results.map((r) => r.p99Ms));
  line(batch === 1 ? 'publish, single events' : `publish, batches of ${batch}`, n, `${Math.round(perSecond)} ev/s`, `p99 ${p99} ms, ${failed} failed; database: ${describeWaits(profile)}`);
  await Promise.all(running.map((herald) => herald.stop()));
  await db.drop();
}

/** Draining a backlog of deliveries (written before the processes start) to a local receiver. */
async function deliver(n: number, receiver: Child) {
  const subscriptions = 8;
  const events = 5_000;
  const resource = 'urn:altinn:resource:bench-scale-delivery';
  const db = await engine.create();
  const ids = await seedSubscriptions(
    db.database,
    subscriptions,
    Array.from({ length: subscriptions }, (_, i) => ({ endpoint: `${receiver.url}/hook/${i}`, resource })),
  );
  await seedLog(db.database, events, resource, () => ids);
  await fetch(`${receiver.url}/reset`, { method: 'POST' });
  loadBefore = load();
  const waits = sampleWaits(db.database);
  const started = performance.now();
  const running = await heralds(db.database, n);
  const total = events * subscriptions;
  let count = 0;
  while (count < total && performance.now() - started < 300_000) {
    count = ((await (await fetch(`${receiver.url}/stats`)).json()) as { count: number }).count;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const stats = (await (await fetch(`${receiver.url}/stats`)).json()) as { count: number; firstAt: number; lastAt: number };
  const profile = await waits.stop();
  const perSecond = stats.count / ((stats.lastAt - stats.firstAt) / 1000);
  line('deliver a backlog (8 push subscriptions)', n, `${Math.round(perSecond)} /s`, `${stats.count} of ${total} delivered; database: ${describeWaits(profile)}`);
  await Promise.all(running.map((herald) => herald.stop()));
  await db.drop();
}

/** Every process serves one poller reading the whole log from the start, size 1000, all at once. */
async function poll(n: number, database: string, logSize: number, resource: string) {
  const running = await heralds(database, n);
  loadBefore = load();
  const started = performance.now();
  const read = await Promise.all(
    running.map(async (herald) => {
      let url = `${herald.url}/events/api/v1/events?after=0&resource=${resource}&size=1000`;
      let total = 0;
      for (;;) {
        const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
        if (!response.ok) throw new Error(`poll failed: ${response.status}`);
        const page = (await response.json()) as unknown[];
        if (page.length === 0) return total;
        total += page.length;
        url = response.headers.get('next') as string;
      }
    }),
  );
  const perSecond = read.reduce((sum, r) => sum + r, 0) / ((performance.now() - started) / 1000);
  line('poll the whole log, one poller per process', n, `${Math.round(perSecond)} ev/s`, `${n} × ${logSize} events read`);
  await Promise.all(running.map((herald) => herald.stop()));
}

for (const n of counts) {
  if (wanted('publish')) await publish(n, 1, 48);
  if (wanted('batch')) await publish(n, 100, 8);
}
if (wanted('deliver')) {
  const receiver = await startHelper('receiver-process.ts');
  for (const n of counts) await deliver(n, receiver);
  await receiver.stop();
}
if (wanted('poll')) {
  const logSize = 200_000;
  const resource = 'urn:altinn:resource:bench-scale-poll';
  const db = await engine.create();
  await seedLog(db.database, logSize, resource);
  for (const n of counts) await poll(n, db.database, logSize, resource);
  await db.drop();
}
