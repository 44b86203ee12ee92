import { copyFileSync, existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ValidEvent } from '../../src/domain/cloudevent.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { AltinnEvents } from './altinn-events.js';
import { bytesWritten, processCpuMs, type RunOptions, type RunResult } from './run-options.js';
import type { SqliteSchema } from './variants.js';

/** Herald's own insert (sqlite-store.ts), unless a variant stores other columns. */
const heraldInsert = `INSERT INTO events (id, source, type, resource, subject, alternativesubject, time, registered_at, payload)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, id) DO NOTHING`;
const heraldBind = (e: ValidEvent, now: number): unknown[] => [
  e.id, e.source, e.type, e.resource, e.subject, e.alternativesubject, e.time, now, e.payload,
];

/**
 * A log of `size` Altinn-shaped events with the variant's schema, filled without durability (it is only the
 * starting point) but one event at a time, so that its indexes are as full as a running log's (an index
 * built afresh is packed, and every first insert into one of its pages splits it). Kept in `folder` for
 * later runs.
 */
async function template(folder: string, variant: string, schema: SqliteSchema, size: number, pageSize: number): Promise<string> {
  const path = join(folder, `sqlite-${variant}-${size}${pageSize === 4096 ? '' : `-page${pageSize}`}.db`);
  if (existsSync(path)) return path;
  const building = `${path}.building`;
  rmSync(building, { force: true });
  // The page size is fixed when the first table is written: before Herald migrates the file.
  const empty = new Database(building);
  empty.pragma(`page_size = ${pageSize}`);
  empty.exec('CREATE TABLE page_size_probe (x); DROP TABLE page_size_probe');
  empty.close();
  await (await SqliteStore.open(building)).close();
  const db = new Database(building);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const indexes = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL`).pluck().all() as string[];
  for (const index of indexes) db.exec(`DROP INDEX ${index}`);
  db.exec(schema.ddl);
  const insert = db.prepare(schema.insert ?? heraldInsert);
  const bind = schema.bind ?? heraldBind;
  const fill = db.transaction((events: ValidEvent[]) => {
    const now = Date.now();
    for (const e of events) insert.run(...bind(e, now));
  });
  const events = new AltinnEvents();
  for (let done = 0; done < size; done += 10_000) fill(events.batch(Math.min(10_000, size - done)));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  rmSync(`${building}-wal`, { force: true });
  rmSync(`${building}-shm`, { force: true });
  copyFileSync(building, path);
  rmSync(building);
  return path;
}

/** Copies the variant's template log, then times durable batch inserts into it. */
export async function runSqlite(folder: string, variant: string, schema: SqliteSchema, options: RunOptions): Promise<RunResult> {
  const setupStarted = performance.now();
  const source = await template(folder, variant, schema, options.logSize, options.pageSize);
  const path = join(folder, `sqlite-run-${process.pid}.db`);
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
  copyFileSync(source, path);
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    const setupMs = performance.now() - setupStarted;

    // Durable as Herald is: every commit's log is flushed before the next batch starts.
    db.pragma('synchronous = FULL');
    if (options.cacheKib !== undefined) db.pragma(`cache_size = -${options.cacheKib}`);
    db.pragma(`wal_autocheckpoint = ${options.checkpoint === 'deferred' ? 0 : options.autocheckpointPages}`);
    const insert = db.prepare(schema.insert ?? heraldInsert);
    const bind = schema.bind ?? heraldBind;
    const append = db.transaction((events: ValidEvent[]) => {
      const now = Date.now();
      let stored = 0;
      for (const e of events) stored += insert.run(...bind(e, now)).changes;
      return stored;
    });
    const events = new AltinnEvents();
    const batches = Array.from({ length: Math.ceil(options.events / options.batch) }, () => events.batch(options.batch));
    for (let i = 0; i < 3; i++) append(events.batch(options.batch));

    const written = bytesWritten();
    const cpu = processCpuMs('self');
    const started = performance.now();
    let stored = 0;
    for (const batch of batches) stored += append(batch);
    const insertMs = performance.now() - started;
    const checkpointStarted = performance.now();
    if (options.checkpoint === 'deferred') db.pragma('wal_checkpoint(PASSIVE)');
    const checkpointMs = performance.now() - checkpointStarted;
    if (stored !== batches.length * options.batch) throw new Error(`stored ${stored} of ${batches.length * options.batch}`);
    return {
      stored,
      setupMs,
      insertMs,
      checkpointMs,
      bytesWritten: bytesWritten() - written,
      cpuMs: processCpuMs('self') - cpu,
      databaseBytes: statSync(path).size,
    };
  } finally {
    db.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
  }
}
