/**
 * `npm run bench`: Herald's throughput and latency next to the ceilings measured in the same run on the
 * same machine. `--quick` for a short run; `--engine sqlite|postgres` for one engine, `--engine postgres-sync`
 * for PostgreSQL with a synchronous standby (built per scenario; not in the default run). Writes
 * bench/results/<engine>.json and prints a table; `--profile <dir>` keeps a CPU profile of each Herald process.
 * See BENCHMARKS.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { type BenchEngine, sqliteEngine, postgresEngine, postgresSyncEngine, postgresSyncUnavailable } from './engines.js';
import { deliveryScenarios } from './scenarios/delivery.js';
import { filterScenarios } from './scenarios/filters.js';
import { orderingScenarios } from './scenarios/ordering.js';
import { publishScenarios } from './scenarios/publish.js';
import { pollScenarios } from './scenarios/poll.js';
import { pullScenarios } from './scenarios/pull.js';
import { stallScenarios } from './scenarios/stalls.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    engine: { type: 'string' },
    only: { type: 'string' },
    profile: { type: 'string' },
  },
});
// `--profile <dir>`: every Herald process writes a V8 CPU profile there (read them with bench/profile-summary.ts).
if (values.profile) process.env.HERALD_BENCH_PROFILE_DIR = values.profile;
const quick = values.quick ?? false;
/**
 * `--only publish,pull` runs some groups of scenarios (publish, filters, delivery, ordering, poll, pull, stalls);
 * results of a partial run are not written.
 */
const only = values.only?.split(',');
const wanted = (group: string) => !only || only.includes(group);

async function postgresReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const adminUrl = process.env.HERALD_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';
const engines: BenchEngine[] = [];
if (!values.engine || values.engine === 'sqlite') engines.push(sqliteEngine);
if (!values.engine || values.engine === 'postgres') {
  if (await postgresReachable(adminUrl)) engines.push(postgresEngine(adminUrl));
  else console.warn(`PostgreSQL not reachable at ${adminUrl}: its benchmarks are skipped.`);
}
// On request only: each scenario builds its own primary and synchronous standby (docs/high-availability.md).
if (values.engine === 'postgres-sync') {
  const reason = postgresSyncUnavailable();
  if (reason === undefined) engines.push(postgresSyncEngine);
  else console.warn(`No PostgreSQL cluster can be built here (${reason}): postgres-sync is skipped.`);
}

const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });

for (const engine of engines) {
  const none = { results: undefined, table: [] as [string, string, string][] };
  const publish = wanted('publish') ? await publishScenarios(engine, quick) : none;
  const filters = wanted('filters') ? await filterScenarios(engine, quick) : none;
  const delivery = wanted('delivery') ? await deliveryScenarios(engine, quick) : none;
  const ordering = wanted('ordering') ? await orderingScenarios(engine, quick) : none;
  const poll = wanted('poll') ? await pollScenarios(engine, quick) : none;
  const pull = wanted('pull') ? await pullScenarios(engine, quick) : none;
  const stalls = wanted('stalls') ? await stallScenarios(engine, quick) : none;
  const table = [...publish.table, ...filters.table, ...delivery.table, ...ordering.table, ...poll.table, ...pull.table, ...stalls.table];
  const results = {
    engine: engine.name,
    quick,
    machine,
    takenAt: new Date().toISOString(),
    publish: publish.results,
    filters: filters.results,
    delivery: delivery.results,
    ordering: ordering.results,
    poll: poll.results,
    pull: pull.results,
    stalls: stalls.results,
    table,
  };
  if (!only) writeFileSync(new URL(`./results/${engine.name}.json`, import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
  printTable(engine.name, table);
}

function printTable(engine: string, rows: [string, string, string][]) {
  process.stdout.write(`\n${engine} (${machine.cpus} cores, ${machine.cpuModel}, Node ${machine.node})\n`);
  const width = Math.max(...rows.map((r) => r[0].length), 10);
  for (const [name, value, note] of rows) process.stdout.write(`  ${name.padEnd(width)}  ${value.padStart(14)}  ${note}\n`);
}
