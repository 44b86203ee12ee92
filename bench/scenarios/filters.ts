import type { BenchEngine } from '../engines.js';
import { benchApp, benchEvent, firstPartyId, parties, postLoad } from '../load.js';
import { startHerald } from '../processes.js';
import { benchToken, heraldEnv, seedSubscriptions } from '../setup.js';
import { cpuMsPer } from './publish.js';

const connections = 50;
/** Issue 15's figures: of 10,000 subscriptions, 1,000 filter with a `sql` expression. */
const total = 10_000;
const withSql = 1_000;

type Variant = 'plain' | 'keyed' | 'evaluated';

/**
 * The `sql` subscriptions: pull subscriptions to the benchmark app's resource, each for one party among the
 * events' 100,000 (an event matches one of them one time in a hundred). `keyed`: `subject = '…' AND …`, which
 * the match index files under the subject, so an event evaluates only the expression of its own party's
 * subscription, if any. `evaluated`: the same selection written so the index cannot tell (`subject LIKE …`):
 * every event is evaluated against all 1,000, the worst case.
 */
function sqlSubscriptions(variant: Variant) {
  if (variant === 'plain') return [];
  return Array.from({ length: withSql }, (_, i) => {
    const subject = `'/party/${firstPartyId + i * (parties / withSql)}'`;
    const sql = variant === 'keyed' ? `subject = ${subject} AND type LIKE 'app.instance.%'` : `subject LIKE ${subject} AND type LIKE 'app.instance.%'`;
    return { endpoint: null, resource: benchApp.resource, filters: [{ sql }] };
  });
}

/** Single-event publishes for `seconds`, 50 connections, to Herald with these subscriptions. */
async function publishWith(engine: BenchEngine, variant: Variant, seconds: number) {
  const db = await engine.create();
  await seedSubscriptions(db.database, variant === 'plain' ? 10 : total, sqlSubscriptions(variant));
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
 * 10,000 of which 1,000 have a `sql` filter, keyed by subject and not. Issue 15's target: at least 0.8 × the
 * rate with 10. Each run twice, in the order 10, keyed, evaluated, evaluated, keyed, 10, so a machine that slows
 * down or speeds up during the run weighs on all alike.
 */
export async function filterScenarios(engine: BenchEngine, quick: boolean) {
  const seconds = quick ? 2 : 10;
  const runs: Record<Variant, Awaited<ReturnType<typeof publishWith>>[]> = { plain: [], keyed: [], evaluated: [] };
  for (const variant of ['plain', 'keyed', 'evaluated', 'evaluated', 'keyed', 'plain'] as const) {
    runs[variant].push(await publishWith(engine, variant, seconds));
  }
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
  const keyed = summary(runs.keyed);
  const evaluated = summary(runs.evaluated);
  const against = (run: typeof plain) => ({
    ratio: run.eventsPerSecond / plain.eventsPerSecond,
    cpuRatio: plain.cpuMsPerEvent / run.cpuMsPerEvent,
  });
  const note = (run: typeof plain) =>
    `runs ${run.runsPerSecond.join(' and ')} ev/s, p99 ${run.p99Ms} ms, non-2xx ${run.non2xx}, CPU ${run.cpuMsPerEvent.toFixed(3)} ms/event, peak RSS ${run.peakRssMiB.toFixed(0)} MiB`;
  const compared = (run: typeof plain, target: string) => {
    const { ratio, cpuRatio } = against(run);
    return `${ratio.toFixed(2)} x with 10${target}, ${cpuRatio.toFixed(2)} x by CPU per event; ${note(run)}`;
  };
  return {
    results: { total, withSql, seconds, plain, keyed: { ...keyed, ...against(keyed) }, evaluated: { ...evaluated, ...against(evaluated) } },
    table: [
      ['publish, 10 subs', `${Math.round(plain.eventsPerSecond)} ev/s`, note(plain)],
      ['publish, 10,000 subs, 1,000 sql', `${Math.round(keyed.eventsPerSecond)} ev/s`, compared(keyed, ' (target >= 0.8)')],
      ['  same, all 1,000 evaluated', `${Math.round(evaluated.eventsPerSecond)} ev/s`, compared(evaluated, '')],
    ] as [string, string, string][],
  };
}
