import type { BenchEngine } from '../engines.js';
import { startHerald } from '../processes.js';
import { seedLog } from '../seed-log.js';
import { benchToken, heraldEnv } from '../setup.js';

const resource = 'urn:altinn:resource:bench-poll';
const size = 1_000;

/** Polling: reading a log of `count` Altinn-shaped events from the start, following `next` with `size=1000`. */
export async function pollScenarios(engine: BenchEngine, quick: boolean) {
  const count = quick ? 50_000 : 1_000_000;
  const db = await engine.create();
  await seedLog(db.database, count, resource);
  const herald = await startHerald(heraldEnv(db.database));
  const authorization = `Bearer ${await benchToken()}`;

  let url = `${herald.url}/events/api/v1/events?after=0&resource=${resource}&size=${size}`;
  let read = 0;
  const started = performance.now();
  for (;;) {
    const response = await fetch(url, { headers: { authorization } });
    if (!response.ok) throw new Error(`poll failed: ${response.status}`);
    const page = (await response.json()) as unknown[];
    if (page.length === 0) break;
    read += page.length;
    url = response.headers.get('next') as string;
  }
  const perSecond = read / ((performance.now() - started) / 1000);
  const peakRssMiB = herald.peakRssMiB();
  await herald.stop();
  await db.drop();
  return {
    results: { count, read, perSecond, peakRssMiB },
    table: [
      [`polling read (size ${size})`, `${Math.round(perSecond)} ev/s`, `${read} events from the start, following next; peak RSS ${peakRssMiB.toFixed(0)} MiB`],
    ] as [string, string, string][],
  };
}
