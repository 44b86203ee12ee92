import pg from 'pg';
import type { ValidEvent } from '../../src/domain/cloudevent.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { AltinnEvents } from './altinn-events.js';
import { processCpuMs, type RunOptions, type RunResult } from './run-options.js';
import type { PostgresSchema } from './variants.js';

/** What Herald sends (postgres-store.ts), with no subscriptions to fan out to. */
const append = `SELECT count(*)::int AS stored FROM herald_append(4841001, $1, $2, $3, $4, $5, $6, $7, $8,
  '{}'::integer[], '{}'::bigint[], '{}'::boolean[], $9, NULL, NULL, 'herald_bench_raw')`;

/** The same two inserts as one plain statement, without the append lock. */
const insert = `WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[])
      WITH ORDINALITY AS e(id, source, type, resource, subject, alternativesubject, time, payload, n)
  ), keys AS (
    INSERT INTO event_keys (source, id) SELECT source, id FROM input ORDER BY n
    ON CONFLICT (source, id) DO NOTHING RETURNING seq, source, id
  )
  INSERT INTO events (seq, id, source, type, resource, subject, alternativesubject, time, payload)
  SELECT keys.seq, i.id, i.source, i.type, i.resource, i.subject, i.alternativesubject, i.time, i.payload::json
  FROM keys JOIN input i USING (source, id)`;

function parameters(events: readonly ValidEvent[]): unknown[] {
  return [
    events.map((e) => e.id), events.map((e) => e.source), events.map((e) => e.type), events.map((e) => e.resource),
    events.map((e) => e.subject), events.map((e) => e.alternativesubject), events.map((e) => e.time),
    events.map((e) => e.payload), Date.now(),
  ];
}

function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>, options = ''): Promise<T> {
  const client = new pg.Client({ connectionString: url, options });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Drops the indexes of the log's tables (not the primary keys) and gives them the variant's. */
async function applySchema(client: pg.Client, schema: PostgresSchema): Promise<void> {
  const { rows } = await client.query<{ name: string }>(`SELECT i.indexname AS name FROM pg_indexes i
    WHERE i.schemaname = 'public' AND i.tablename IN ('events', 'event_keys')
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname)`);
  for (const { name } of rows) await client.query(`DROP INDEX ${name}`);
  await client.query(schema.ddl);
}

/**
 * A database holding a log of `size` Altinn-shaped events with the variant's schema, migrated by Herald and
 * filled by appends (so its indexes are as full as a running log's), reused by later runs.
 */
async function template(adminUrl: string, variant: string, schema: PostgresSchema, size: number): Promise<string> {
  const name = `herald_raw_${variant.replace(/[^a-z0-9]/g, '_')}_${size}`;
  const exists = await withClient(adminUrl, async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);
  if (exists) return name;
  const building = `${name}_building`;
  await withClient(adminUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${building}`);
  });
  await (await PostgresStore.open({ connectionString: databaseUrl(adminUrl, building) })).close();
  await withClient(
    databaseUrl(adminUrl, building),
    async (c) => {
      await applySchema(c, schema);
      const events = new AltinnEvents();
      for (let done = 0; done < size; done += 2_000) await c.query(append, parameters(events.batch(Math.min(2_000, size - done))));
      await c.query('VACUUM ANALYZE');
    },
    '-c synchronous_commit=off',
  );
  await withClient(adminUrl, (c) => c.query(`ALTER DATABASE ${building} RENAME TO ${name}`));
  return name;
}

interface ServerCounters {
  fpi: number;
  walBytes: number;
  checkpoints: number;
  /** Pages this database's backends had to read because shared_buffers did not hold them. */
  blocksRead: number;
}

/** The server's counters, once every measuring session has handed in its own (they do so when idle). */
async function counters(clients: readonly pg.Client[]): Promise<ServerCounters> {
  for (const client of clients) await client.query('SELECT pg_stat_force_next_flush()');
  for (const client of clients) await client.query('SELECT 1');
  const [first] = clients as [pg.Client];
  await first.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await first.query<ServerCounters>(`SELECT wal_fpi::float8 AS fpi, wal_bytes::float8 AS "walBytes",
    (SELECT (checkpoints_timed + checkpoints_req)::float8 FROM pg_stat_bgwriter) AS checkpoints,
    (SELECT blks_read::float8 FROM pg_stat_database WHERE datname = current_database()) AS "blocksRead"
    FROM pg_stat_wal`);
  return rows[0] as ServerCounters;
}

/** Copies the variant's template log, then times batch appends into it. */
export async function runPostgres(adminUrl: string, variant: string, schema: PostgresSchema, options: RunOptions): Promise<RunResult> {
  const setupStarted = performance.now();
  const source = await template(adminUrl, variant, schema, options.logSize);
  const name = `herald_raw_run_${process.pid}`;
  await withClient(adminUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name} TEMPLATE ${source} STRATEGY FILE_COPY`);
  });
  const url = databaseUrl(adminUrl, name);
  try {
    await withClient(url, async (c) => {
      // Every run starts just after a checkpoint: the first change to each page writes its whole image.
      await c.query('CHECKPOINT');
    });
    const setupMs = performance.now() - setupStarted;

    const events = new AltinnEvents();
    const batches = Array.from({ length: Math.ceil(options.events / options.batch) }, () => events.batch(options.batch));
    const clients = await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        const client = new pg.Client({ connectionString: url, options: options.sessionOptions });
        await client.connect();
        return client;
      }),
    );
    const statement = options.via === 'append' ? append : insert;
    const run = async (client: pg.Client, batch: readonly ValidEvent[]) => {
      const values = options.via === 'append' ? parameters(batch) : parameters(batch).slice(0, 8);
      const { rows } = await client.query<{ stored: number }>(statement, values);
      return options.via === 'append' ? (rows[0]?.stored ?? 0) : batch.length;
    };
    try {
      const [first] = clients as [pg.Client];
      for (let i = 0; i < 3; i++) await run(first, events.batch(options.batch));
      const backends = await Promise.all(clients.map(async (c) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0));
      if (process.env.HERALD_RAW_BENCH_PIDS) console.warn(`backends ${backends.join(' ')}`);
      const backendCpu = () => backends.reduce((sum, pid) => sum + processCpuMs(pid), 0);
      const before = await counters(clients);
      const cpu = backendCpu();
      const started = performance.now();
      let next = 0;
      let stored = 0;
      await Promise.all(
        clients.map(async (client) => {
          for (let batch = batches[next++]; batch; batch = batches[next++]) {
            // Not `stored += await …`: that reads `stored` before the wait, and loses the others' counts.
            const count = await run(client, batch);
            stored += count;
          }
        }),
      );
      const insertMs = performance.now() - started;
      const cpuMs = backendCpu() - cpu;
      const after = await counters(clients);
      if (stored !== batches.length * options.batch) throw new Error(`stored ${stored} of ${batches.length * options.batch}`);
      const { rows } = await first.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes');
      return {
        stored,
        setupMs,
        insertMs,
        checkpointMs: 0,
        cpuMs,
        bytesWritten: after.walBytes - before.walBytes,
        fullPageImages: after.fpi - before.fpi,
        checkpoints: after.checkpoints - before.checkpoints,
        blocksRead: after.blocksRead - before.blocksRead,
        databaseBytes: Number(rows[0]?.bytes ?? 0),
      };
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  } finally {
    await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  }
}
