/**
 * Measures what the backlog and dead-letter counts cost on a big deliveries table (docs/subscriptions.md,
 * "Backlog and dead letters"): a listing page's counts (`bySubscription` of 100 subscriptions) and the overview's
 * Herald-wide counts (`heraldWide`), on both engines. Not part of `npm run bench`:
 *   node --import tsx bench/delivery-counts.ts [postgres://…/postgres]
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Store } from '../src/store/store.js';
import { type BenchEngine, postgresEngine, sqliteEngine } from './engines.js';

const subscriptions = 200;
/** Per ordinary subscription: most delivered long ago, some waiting, a few dead. */
const perSubscription = { delivered: 1_250, waiting: 100, dead: 50 };
/**
 * The first 100 (the page measured) are all busy, past the per-subscription cap in both counts: the worst a
 * default page can cost. Together they are past the Herald-wide cap too.
 */
const busy = { waiting: 1_200, dead: 1_200 };
const runs = 7;

async function measure(engine: BenchEngine): Promise<void> {
  const database = await engine.create();
  const store: Store =
    engine.name === 'sqlite' ? await SqliteStore.open(database.database) : await PostgresStore.open({ connectionString: database.database });
  try {
    const ids: number[] = [];
    for (let n = 0; n < subscriptions; n++) {
      const { subscription } = await store.subscriptions.create({
        identity: randomUUID(),
        consumer: `/org/bench${n % 20}`,
        createdBy: `/org/bench${n % 20}`,
        endpoint: n % 2 === 0 ? `https://example.com/hook/${n}` : null,
        sourceFilter: null,
        resourceFilter: 'urn:altinn:resource:bench',
        subjectFilter: null,
        alternativeSubjectFilter: null,
        typeFilter: null,
        secret: 'whsec_bench',
        status: 'active',
        nextValidationAt: null,
        validatedAt: Date.now(),
        now: Date.now(),
      });
      ids.push(subscription.id);
    }
    const rows = await fill(engine.name, database.database, ids);
    const page = ids.slice(0, 100);
    const listing = await timed(() => store.deliveries.counts.bySubscription(page));
    const wide = await timed(() => store.deliveries.counts.heraldWide());
    const counts = await store.deliveries.counts.heraldWide();
    process.stdout.write(
      `${engine.name}: ${rows.toLocaleString('en')} deliveries, ${subscriptions} subscriptions; ` +
        `a page of 100 subscriptions' counts: median ${listing} ms; Herald-wide counts (${JSON.stringify(counts)}): median ${wide} ms\n`,
    );
    if (engine.name === 'postgres') await explain(database.database, page);
  } finally {
    await store.close();
    await database.drop();
  }
}

/** Inserts the deliveries outside Herald, in bulk; returns how many. */
async function fill(engine: 'sqlite' | 'postgres', database: string, ids: readonly number[]): Promise<number> {
  const statements: string[] = [];
  const series = (n: number) =>
    engine === 'postgres' ? `generate_series(1, ${n}) AS g(i)` : `(WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ${n}) SELECT i FROM g) AS g`;
  const insert = (id: number, status: string, n: number) =>
    `INSERT INTO deliveries (subscription_id, event_seq, status, attempts, next_attempt_at, created_at, delivered_at, dead_at)
     SELECT ${id}, g.i, '${status}', 1, ${status === 'pending' ? 0 : 'NULL'}, 0, ${status === 'delivered' ? 1 : 'NULL'}, ${status === 'dead' ? 1 : 'NULL'}
     FROM ${series(n)}`;
  let total = 0;
  ids.forEach((id, index) => {
    const [waiting, dead] = index < 100 ? [busy.waiting, busy.dead] : [perSubscription.waiting, perSubscription.dead];
    // Interleaved as time would: delivered history first, then what waits, then what died.
    statements.push(insert(id, 'delivered', perSubscription.delivered), insert(id, 'pending', waiting), insert(id, 'dead', dead));
    total += perSubscription.delivered + waiting + dead;
  });
  if (engine === 'sqlite') {
    const raw = new Database(database);
    raw.exec(`BEGIN; ${statements.join(';\n')}; COMMIT; ANALYZE;`);
    raw.close();
  } else {
    const client = new pg.Client({ connectionString: database });
    await client.connect();
    for (const statement of statements) await client.query(statement);
    // As autovacuum leaves a table at rest: the visibility map lets counts read the index alone.
    await client.query('VACUUM ANALYZE');
    await client.end();
  }
  return total;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return Math.round((times[Math.floor(runs / 2)] ?? 0) * 10) / 10;
}

async function explain(database: string, page: readonly number[]): Promise<void> {
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  const plan = await client.query(
    `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
     SELECT (SELECT count(*) FROM (SELECT 1 FROM subscriptions s CROSS JOIN LATERAL (SELECT 1 FROM deliveries d
       WHERE d.subscription_id = s.id AND d.status IN ('pending', 'failed') AND d.id > s.acknowledged_delivery_id LIMIT 100001) AS d_each
       LIMIT 100001) AS w)`,
  );
  process.stdout.write(`${plan.rows.map((row) => row['QUERY PLAN']).join('\n')}\n`);
  void page;
  await client.end();
}

const adminUrl = process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
await measure(sqliteEngine);
await measure(postgresEngine(adminUrl));
