import type { BenchEngine } from '../engines.js';
import { benchApp, benchEvent, firstPartyId, parties, postLoad } from '../load.js';
import { startHerald } from '../processes.js';
import { benchToken, heraldEnv, seedSubscriptions } from '../setup.js';
import { cpuMsPer } from './publish.js';

const connections = 50;
/** Issue 15's figures: of 10,000 subscriptions, 1,000 filter with a `sql` expression. */
const total = 10_000;
const withSql = 1_000;

/**
 * The `sql` subscriptions: pull subscriptions to the benchmark app's resource, so every one is a candidate of
 * every event and its expression is evaluated on each, each for one party among the events' 100,000 (an event
 * matches one of them one time in a hundred). The worst case for filter expressions: the match index lets all
 * 1,000 through.
 */
function sqlSubscriptions() {
  return Array.from({ length: withSql }, (_, i) => ({
    endpoint: null,
    resource: benchApp.resource,
    filters: [{ sql: `subject = '/party/${firstPartyId + i * (parties / withSql)}' AND type LIKE 'app.instance.%'` }],
  }));
}

/** Single-event publishes for `seconds`, 50 connections, to Herald with these subscriptions. */
async function publishWith(engine: BenchEngine, filtered: boolean, seconds: number) {
  const db = await engine.create();
  await seedSubscriptions(db.database, filtered ? total : 10, filtered ? sqlSubscriptions() : []);
  const herald = await startHerald(heraldEnv(db.database));
  const token = await benchToken();
  const cpuBefore = herald.cpuSeconds();
  const result = await postLoad({
    url: `${herald.url}/events/api/v1/events`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/cloudevents+json' },
    body: () => JSON.stringify(benchEvent()),
    connections,
    seconds,
  });
  const cpuMsPerEvent = cpuMsPer(herald.cpuSeconds() - cpuBefore, result.requestsPerSecond * seconds);
  const peakRssMiB = herald.peakRssMiB();
  await herald.stop();
  await db.drop();
  return { eventsPerSecond: result.requestsPerSecond, p99Ms: result.p99Ms, non2xx: result.non2xx, cpuMsPerEvent, peakRssMiB };
}

/**
 * Filter expressions at publishing (docs/filters.md): single-event publishes with 10 subscriptions, and with
 * 10,000 of which 1,000 have a `sql` filter that every event is evaluated against. Issue 15's target: at least
 * 0.8 × the rate with 10. Each run twice, in the order 10, filtered, filtered, 10, so a machine that slows down
 * or speeds up during the run weighs on both alike.
 */
export async function filterScenarios(engine: BenchEngine, quick: boolean) {
  const seconds = quick ? 2 : 10;
  const runs: Record<'plain' | 'filtered', Awaited<ReturnType<typeof publishWith>>[]> = { plain: [], filtered: [] };
  for (const filtered of [false, true, true, false]) runs[filtered ? 'filtered' : 'plain'].push(await publishWith(engine, filtered, seconds));
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const summary = (all: Awaited<ReturnType<typeof publishWith>>[]) => ({
    eventsPerSecond: mean(all.map((run) => run.eventsPerSecond)),
    runsPerSecond: all.map((run) => Math.round(run.eventsPerSecond)),
    cpuMsPerEvent: mean(all.map((run) => run.cpuMsPerEvent)),
    p99Ms: Math.max(...all.map((run) => run.p99Ms)),
    non2xx: all.reduce((sum, run) => sum + run.non2xx, 0),
    peakRssMiB: Math.max(...all.map((run) => run.peakRssMiB)),
  });
  const plain = summary(runs.plain);
  const filtered = summary(runs.filtered);
  const ratio = filtered.eventsPerSecond / plain.eventsPerSecond;
  const cpuRatio = plain.cpuMsPerEvent / filtered.cpuMsPerEvent;
  const note = (run: typeof plain) =>
    `runs ${run.runsPerSecond.join(' and ')} ev/s, p99 ${run.p99Ms} ms, non-2xx ${run.non2xx}, CPU ${run.cpuMsPerEvent.toFixed(3)} ms/event, peak RSS ${run.peakRssMiB.toFixed(0)} MiB`;
  return {
    results: { total, withSql, seconds, plain, filtered, ratio, cpuRatio },
    table: [
      ['publish, 10 subs', `${Math.round(plain.eventsPerSecond)} ev/s`, note(plain)],
      [
        'publish, 10,000 subs, 1,000 sql',
        `${Math.round(filtered.eventsPerSecond)} ev/s`,
        `${ratio.toFixed(2)} x with 10 (target >= 0.8), ${cpuRatio.toFixed(2)} x by CPU per event; ${note(filtered)}`,
      ],
    ] as [string, string, string][],
  };
}
