import type { BenchEngine } from '../engines.js';
import { benchEvent, postLoad } from '../load.js';
import { sampleWaits, waitsNote } from '../pg-waits.js';
import { startHelper, startHerald } from '../processes.js';
import { benchToken, heraldEnv, seedSubscriptions } from '../setup.js';

const connections = 50;

/** CPU milliseconds one event (or request) cost the server: the sizing figure, steady however busy the machine is. */
export const cpuMsPer = (cpuSeconds: number, events: number) => (events > 0 ? (cpuSeconds * 1000) / events : Number.NaN);
const cpu = (ms: number) => `CPU ${ms.toFixed(3)} ms/event (${Math.round(1000 / ms)}/s per core)`;

/** Publishing: the bare Fastify ceiling, then Herald's durable single and batch publish, with 10 and 10,000 subscriptions. */
export async function publishScenarios(engine: BenchEngine, quick: boolean) {
  const seconds = quick ? 2 : 10;
  const token = await benchToken();
  const single = () => JSON.stringify(benchEvent());
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/cloudevents+json' };

  const bare = await startHelper('bare-fastify-process.ts');
  const bareCpuBefore = bare.cpuSeconds();
  const bareLoad = await postLoad({ url: `${bare.url}/events/api/v1/events`, headers, body: single, connections, seconds });
  const ceiling = { ...bareLoad, cpuMsPerEvent: cpuMsPer(bare.cpuSeconds() - bareCpuBefore, bareLoad.requestsPerSecond * seconds) };
  await bare.stop();

  const run = async (subscriptions: number, batch: boolean) => {
    const db = await engine.create();
    await seedSubscriptions(db.database, subscriptions, []);
    const herald = await startHerald(heraldEnv(db.database));
    const cpuBefore = herald.cpuSeconds();
    // On PostgreSQL, what the database's backends wait on meanwhile.
    const waits = engine.name !== 'sqlite' ? sampleWaits(db.database) : undefined;
    const result = await postLoad({
      url: `${herald.url}/events/api/v1/events`,
      headers: batch ? { ...headers, 'content-type': 'application/cloudevents-batch+json' } : headers,
      body: batch ? () => JSON.stringify(Array.from({ length: 100 }, () => benchEvent())) : single,
      connections: batch ? 10 : connections,
      seconds,
    });
    const peakRssMiB = herald.peakRssMiB();
    const databaseWaits = await waits?.stop();
    const eventsPerSecond = result.requestsPerSecond * (batch ? 100 : 1);
    const cpuMsPerEvent = cpuMsPer(herald.cpuSeconds() - cpuBefore, eventsPerSecond * seconds);
    await herald.stop();
    await db.drop();
    return { ...result, eventsPerSecond, peakRssMiB, cpuMsPerEvent, databaseWaits };
  };

  const with10 = await run(10, false);
  const with10k = await run(quick ? 2_000 : 10_000, false);
  const batched = await run(10, true);
  const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
  return {
    results: { ceiling, single: with10, withManySubscriptions: with10k, batch: batched },
    table: [
      ['bare Fastify (ceiling)', `${Math.round(ceiling.requestsPerSecond)} req/s`, `${connections} connections, p99 ${ceiling.p99Ms} ms, ${cpu(ceiling.cpuMsPerEvent)}`],
      ['durable publish, 10 subs', `${Math.round(with10.eventsPerSecond)} ev/s`, `${ratio(with10.eventsPerSecond, ceiling.requestsPerSecond).toFixed(2)} x ceiling, p99 ${with10.p99Ms} ms, non-2xx ${with10.non2xx}, peak RSS ${with10.peakRssMiB.toFixed(0)} MiB, ${cpu(with10.cpuMsPerEvent)}${waitsNote(with10.databaseWaits)}`],
      [`durable publish, ${quick ? '2,000' : '10,000'} subs`, `${Math.round(with10k.eventsPerSecond)} ev/s`, `${ratio(with10k.eventsPerSecond, with10.eventsPerSecond).toFixed(2)} x with 10 subs, peak RSS ${with10k.peakRssMiB.toFixed(0)} MiB, ${cpu(with10k.cpuMsPerEvent)}`],
      ['batch publish (100/request)', `${Math.round(batched.eventsPerSecond)} ev/s`, `${ratio(batched.eventsPerSecond, with10.eventsPerSecond).toFixed(1)} x single, non-2xx ${batched.non2xx}, peak RSS ${batched.peakRssMiB.toFixed(0)} MiB, ${cpu(batched.cpuMsPerEvent)}${waitsNote(batched.databaseWaits)}`],
    ] as [string, string, string][],
  };
}
