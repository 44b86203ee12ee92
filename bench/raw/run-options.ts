import { readFileSync } from 'node:fs';

/** One measured run: so many events, in batches of a size, into a log already holding `logSize`. */
export interface RunOptions {
  readonly logSize: number;
  readonly events: number;
  readonly batch: number;
  /** SQLite: `auto` checkpoints on the committing thread (today); `deferred` runs one after the timed inserts. */
  readonly checkpoint: 'auto' | 'deferred';
  /** SQLite's wal_autocheckpoint, in pages. */
  readonly autocheckpointPages: number;
  /** SQLite's page size, for the log the run starts from. */
  readonly pageSize: number;
  /** SQLite's page cache, in KiB (unset: the library's default). */
  readonly cacheKib?: number | undefined;
  /** PostgreSQL: appends in flight at once, each on its own connection. */
  readonly concurrency: number;
  /** PostgreSQL: through `herald_append` (what Herald calls) or a plain INSERT statement. */
  readonly via: 'append' | 'insert';
  /** PostgreSQL: settings for the measuring sessions, e.g. `-c wal_compression=lz4` (superuser settings too). */
  readonly sessionOptions: string;
}

export interface RunResult {
  readonly stored: number;
  /** Time to give the copied log the variant's schema (index builds), not part of the rate. */
  readonly setupMs: number;
  readonly insertMs: number;
  /** SQLite with deferred checkpoints: the one checkpoint after the inserts. */
  readonly checkpointMs: number;
  /** SQLite: bytes this process wrote (WAL and checkpoints); PostgreSQL: WAL bytes the server wrote (every database's). */
  readonly bytesWritten: number;
  readonly databaseBytes?: number;
  /** CPU time (user and system) of this process during the timed inserts; for PostgreSQL, of its backends. */
  readonly cpuMs: number;
  /** PostgreSQL: full-page images written to WAL, and checkpoints that started during the run. */
  readonly fullPageImages?: number;
  readonly checkpoints?: number;
  /** PostgreSQL: pages read into shared_buffers (misses) during the run. */
  readonly blocksRead?: number;
}

/**
 * Bytes this process has handed to write calls (Linux's `wchar`): SQLite's WAL frames and checkpoint pages.
 * Not `write_bytes`, which counts whole pages each time a write dirties a clean one (a WAL frame is 24 bytes
 * longer than a page, so after every flush each frame is counted twice or more).
 */
export function bytesWritten(): number {
  const line = readFileSync('/proc/self/io', 'utf8').split('\n').find((l) => l.startsWith('wchar:'));
  return Number(line?.split(':')[1] ?? 0);
}

/** CPU time (user and system, ms) of a process so far, from /proc (Linux; 100 ticks a second). */
export function processCpuMs(pid: number | 'self'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
