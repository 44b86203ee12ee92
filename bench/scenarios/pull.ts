import type { BenchEngine } from '../engines.js';
import { startHerald } from '../processes.js';
import { seedLog } from '../seed-log.js';
import { benchToken, heraldEnv, seedSubscriptions } from '../setup.js';

const resource = 'urn:altinn:resource:bench-pull';
const limit = 5_000;

/** Queues `count` Altinn-shaped events for one pull subscription, written straight to the store before Herald starts. */
async function seedQueue(database: string, count: number): Promise<number> {
  const [subscriptionId = 0] = await seedSubscriptions(database, 1, [{ endpoint: null, resource }]);
  await seedLog(database, count, resource, () => [subscriptionId]);
  return subscriptionId;
}

/** Draining a pull subscription's backlog page by page, acknowledging each page with its checkpoint. */
export async function pullScenarios(engine: BenchEngine, quick: boolean) {
  const backlog = quick ? 50_000 : 1_000_000;
  const db = await engine.create();
  const seedStarted = performance.now();
  const subscriptionId = await seedQueue(db.database, backlog);
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const herald = await startHerald(heraldEnv(db.database));
  const authorization = `Bearer ${await benchToken()}`;

  const pageMs: number[] = [];
  let checkPoint: string | undefined;
  let drained = 0;
  const started = performance.now();
  for (;;) {
    const pageStarted = performance.now();
    const query = new URLSearchParams({ limit: String(limit), ...(checkPoint ? { checkPoint } : {}) });
    const response = await fetch(`${herald.url}/events/api/v1/subscriptions/${subscriptionId}/events?${query}`, {
      headers: { authorization },
    });
    if (!response.ok) throw new Error(`pull failed: ${response.status} ${await response.text()}`);
    const page = (await response.json()) as { checkPoint: string; events: unknown[] };
    pageMs.push(performance.now() - pageStarted);
    checkPoint = page.checkPoint;
    drained += page.events.length;
    if (page.events.length === 0) break;
  }
  const seconds = (performance.now() - started) / 1000;
  const peakRssMiB = herald.peakRssMiB();
  await herald.stop();
  await db.drop();

  const average = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const firstPages = average(pageMs.slice(0, 10));
  const lastPages = average(pageMs.slice(-11, -1));
  const perSecond = drained / seconds;
  return {
    results: { backlog, drained, perSecond, seedSeconds, firstPagesMs: firstPages, lastPagesMs: lastPages, peakRssMiB },
    table: [
      [
        `pull drain (limit ${limit})`,
        `${Math.round(perSecond)} ev/s`,
        `${drained} events; a page took ${firstPages.toFixed(0)} ms at the start, ${lastPages.toFixed(0)} ms at the end; peak RSS ${peakRssMiB.toFixed(0)} MiB`,
      ],
    ] as [string, string, string][],
  };
}
