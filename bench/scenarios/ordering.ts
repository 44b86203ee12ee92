import type { DeliveryOrdering } from '../../src/domain/delivery-ordering.js';
import type { BenchEngine } from '../engines.js';
import { benchEvent } from '../load.js';
import { type Child, startHelper, startHerald } from '../processes.js';
import { benchToken, heraldEnv, seedSubscriptions } from '../setup.js';

const resource = 'urn:altinn:resource:bench-ordering';
const subscriptions = 8;
/** The events' partition keys: each event gets one of these at random (issue 14's figure). */
const keys = 1_000;

interface ReceiverStats {
  count: number;
  firstAt: number;
  lastAt: number;
}

const stats = async (receiver: Child) => (await (await fetch(`${receiver.url}/stats`)).json()) as ReceiverStats;

async function waitForCount(receiver: Child, count: number, timeoutMs: number): Promise<ReceiverStats> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await stats(receiver);
    if (current.count >= count || Date.now() > deadline) return current;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * One run of the delivery benchmark's load (8 push subscriptions of one consumer, events published in batches of
 * 100 while Herald delivers), every event with a `partitionkey` among 1,000, the subscriptions ordered by it or not.
 */
async function deliverWith(engine: BenchEngine, receiver: Child, ordering: DeliveryOrdering, events: number) {
  const db = await engine.create();
  await seedSubscriptions(
    db.database,
    subscriptions,
    Array.from({ length: subscriptions }, (_, i) => ({ endpoint: `${receiver.url}/hook/${ordering}-${i}`, resource, ordering })),
  );
  const herald = await startHerald(heraldEnv(db.database));
  await fetch(`${receiver.url}/reset`, { method: 'POST' });
  const cpuBefore = herald.cpuSeconds();
  const headers = { authorization: `Bearer ${await benchToken()}`, 'content-type': 'application/cloudevents-batch+json' };
  for (let published = 0; published < events; published += 100) {
    const batch = Array.from({ length: 100 }, () => ({ ...benchEvent(resource), partitionkey: `key-${Math.floor(Math.random() * keys)}` }));
    const response = await fetch(`${herald.url}/events/api/v1/events`, { method: 'POST', headers, body: JSON.stringify(batch) });
    if (!response.ok) throw new Error(`publish failed: ${response.status}`);
  }
  const expected = events * subscriptions;
  const drained = await waitForCount(receiver, expected, 300_000);
  const perSecond = drained.count / ((drained.lastAt - drained.firstAt) / 1000);
  const cpuMsPerDelivery = ((herald.cpuSeconds() - cpuBefore) * 1000) / drained.count;
  const peakRssMiB = herald.peakRssMiB();
  await herald.stop();
  await db.drop();
  if (drained.count < expected) throw new Error(`${ordering}: ${drained.count} of ${expected} delivered in time`);
  return { deliveries: drained.count, perSecond, cpuMsPerDelivery, peakRssMiB };
}

/**
 * Ordered against unordered delivery (docs/ordering.md): the same load twice in one run, on the same machine,
 * once to subscriptions ordered by `partitionkey` over 1,000 keys and once to unordered ones. Issue 14's target:
 * ordered at least half as fast.
 */
export async function orderingScenarios(engine: BenchEngine, quick: boolean) {
  const receiver = await startHelper('receiver-process.ts');
  // Enough events that each key's events queue behind one another: 2 (quick) or 10 per key and subscription.
  const events = quick ? 2_000 : 10_000;
  // Twice each, in the order unordered, ordered, ordered, unordered: a machine that slows down or speeds up
  // during the run weighs on both alike (BENCHMARKS.md: the machine is shared and noisy).
  const runs: Record<'none' | 'partitionkey', Awaited<ReturnType<typeof deliverWith>>[]> = { none: [], partitionkey: [] };
  for (const ordering of ['none', 'partitionkey', 'partitionkey', 'none'] as const) {
    runs[ordering].push(await deliverWith(engine, receiver, ordering, events));
  }
  await receiver.stop();
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const summary = (all: Awaited<ReturnType<typeof deliverWith>>[]) => ({
    deliveries: all[0]?.deliveries ?? 0,
    perSecond: mean(all.map((run) => run.perSecond)),
    runsPerSecond: all.map((run) => Math.round(run.perSecond)),
    cpuMsPerDelivery: mean(all.map((run) => run.cpuMsPerDelivery)),
    peakRssMiB: Math.max(...all.map((run) => run.peakRssMiB)),
  });
  const unordered = summary(runs.none);
  const ordered = summary(runs.partitionkey);
  const ratio = ordered.perSecond / unordered.perSecond;
  const note = (run: typeof ordered) =>
    `runs ${run.runsPerSecond.join(' and ')} /s, ${run.deliveries} delivered each, CPU ${run.cpuMsPerDelivery.toFixed(3)} ms/delivery, peak RSS ${run.peakRssMiB.toFixed(0)} MiB`;
  return {
    results: { keys, events, subscriptions, unordered, ordered, ratio },
    table: [
      ['webhooks, unordered (1,000 keys)', `${Math.round(unordered.perSecond)} /s`, note(unordered)],
      [
        'webhooks, ordered by partitionkey',
        `${Math.round(ordered.perSecond)} /s`,
        `${ratio.toFixed(2)} x unordered (target >= 0.5); ${note(ordered)}`,
      ],
    ] as [string, string, string][],
  };
}
