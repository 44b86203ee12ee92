import cluster, { type Worker } from 'node:cluster';
import { availableParallelism, hostname } from 'node:os';
import type { HeraldConfig } from '../config/config.js';
import { loadOrCreateDevSecret } from '../config/dev-secret.js';
import { GroupMetricsCollector } from '../observability/group-metrics-primary.js';
import { isPostgresUrl } from '../store/database-url.js';

/** Refused before anything starts: the message says what to do instead. */
export class WorkerCountError extends Error {
  override name = 'WorkerCountError';
}

/**
 * How many workers `--workers` asks for: a whole number, or `0` / `auto` for one per core.
 * @example workerCount('auto') // 8 on an eight-core machine
 */
export function workerCount(text: string): number {
  if (text === 'auto' || text === '0') return availableParallelism();
  if (!/^\d{1,3}$/.test(text)) {
    throw new WorkerCountError(`--workers takes a number of processes, or 0 or auto for one per core; not '${text}'.`);
  }
  return Number(text);
}

/**
 * Set by the primary in each worker's environment: its place in the group, 1..N, which a replacement takes
 * over. It names the worker in metrics (`worker="2"`), so series stay few however often workers restart.
 */
const slotVariable = 'HERALD_WORKER_SLOT';

/** In a worker: its place in the group (`slotVariable`); 1 when the primary did not say. */
export function workerSlot(env: NodeJS.ProcessEnv = process.env): number {
  const slot = Number(env[slotVariable]);
  return Number.isInteger(slot) && slot >= 1 ? slot : 1;
}

/** A worker that served at least this long counts as healthy: the next crash restarts it without delay built up. */
const healthyAfterMs = 60_000;
/** Restart delays double from the first to the last, and stay there while workers keep dying young. */
const restartDelaysMs = { first: 1_000, last: 30_000 } as const;

/**
 * How long to wait before replacing a dead worker, given how many died young in a row (this one included).
 * @example restartDelayMs(1) // 1000; restartDelayMs(3) // 4000; restartDelayMs(10) // 30000
 */
export function restartDelayMs(youngDeaths: number): number {
  return Math.min(restartDelaysMs.first * 2 ** Math.max(0, youngDeaths - 1), restartDelaysMs.last);
}

/**
 * `herald serve --workers N`: this process (the primary) forks N workers and serves nothing itself. Every
 * worker runs all of Herald: the API on the shared port (node:cluster hands each connection to one worker),
 * the dispatcher and pull maintenance. They coordinate through PostgreSQL exactly as separate machines do
 * (leases with SKIP LOCKED, the append lock, LISTEN/NOTIFY), so there is nothing for the primary to share
 * but the metrics: a scrape reaching any worker answers for the group, collected through the primary
 * (see `GroupMetricsCollector`).
 *
 * The primary restarts a worker that dies (after a delay that grows while workers keep dying young), and on
 * SIGTERM or SIGINT passes the signal on and exits once every worker has shut down gracefully.
 */
export function superviseWorkers(config: HeraldConfig, count: number): Promise<void> {
  if (count > 1 && !isPostgresUrl(config.database)) {
    throw new WorkerCountError(
      `--workers ${count} needs PostgreSQL: SQLite serves one process, so Herald cannot share ${config.database} ` +
        'between workers. Set HERALD_DATABASE=postgres://… to use several, or leave --workers out.',
    );
  }
  if (count < 1) throw new WorkerCountError('--workers must be at least 1.');
  // Made once here: workers racing to create the development secret could read a half-written file.
  if (config.jwt.keys.kind === 'development') loadOrCreateDevSecret(config.dataDir);

  const log = primaryLog(config.logLevel);
  const startedAt = new Map<Worker, number>();
  const slots = new Map<Worker, number>();
  const metrics = new GroupMetricsCollector<Worker>({
    members: () => [...slots].sort(([, a], [, b]) => a - b).map(([worker, slot]) => ({ worker, slot })),
    send: (worker, message, done) => {
      if (worker.isConnected()) worker.send(message, done);
      else done(new Error('the worker is disconnected'));
    },
  });
  cluster.on('message', (worker, message) => metrics.received(worker, message));
  const restartTimers = new Set<NodeJS.Timeout>();
  let groupServed = false;
  let stopping = false;
  let failed = false;
  let youngDeaths = 0;

  const fork = (slot: number) => {
    const worker = cluster.fork({ [slotVariable]: String(slot) });
    startedAt.set(worker, Date.now());
    slots.set(worker, slot);
    worker.once('listening', () => {
      groupServed = true;
      log('info', { workerPid: worker.process.pid, slot }, 'worker serving');
    });
  };

  return new Promise<void>((resolve) => {
    const finishIfDone = () => {
      if (stopping && Object.keys(cluster.workers ?? {}).length === 0) {
        log(failed ? 'error' : 'info', {}, failed ? 'all workers stopped after a failure' : 'all workers stopped');
        process.exitCode = failed ? 1 : 0;
        resolve();
      }
    };
    const stop = (signal: NodeJS.Signals) => {
      if (!stopping) log('info', { signal, workers: Object.keys(cluster.workers ?? {}).length }, 'shutting down: waiting for workers to finish');
      stopping = true;
      for (const timer of restartTimers) clearTimeout(timer);
      restartTimers.clear();
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
      finishIfDone();
    };

    cluster.on('exit', (worker, code, signal) => {
      const lived = Date.now() - (startedAt.get(worker) ?? Date.now());
      startedAt.delete(worker);
      const slot = slots.get(worker) ?? 1;
      slots.delete(worker);
      metrics.retire(worker);
      if (stopping) {
        // Ended by the signal passed on (before it installed its handler) is no failure; an error exit is.
        if (code !== 0 && code !== null) failed = true;
        finishIfDone();
        return;
      }
      if (!groupServed) {
        // No worker ever came up: a configuration, port or database problem every new worker would hit too.
        log('error', { workerPid: worker.process.pid, code, signal }, 'a worker failed before Herald served: stopping');
        failed = true;
        stop('SIGTERM');
        return;
      }
      youngDeaths = lived >= healthyAfterMs ? 0 : youngDeaths + 1;
      const delay = restartDelayMs(youngDeaths);
      log('error', { workerPid: worker.process.pid, code, signal, restartInMs: delay }, 'worker died unexpectedly: starting another');
      const timer = setTimeout(() => {
        restartTimers.delete(timer);
        if (!stopping) fork(slot);
      }, delay);
      restartTimers.add(timer);
    });
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));

    log('info', { workers: count, database: isPostgresUrl(config.database) ? 'postgres' : 'sqlite' }, 'starting workers');
    for (let slot = 1; slot <= count; slot++) fork(slot);
  });
}

const levels = { error: 50, info: 30 } as const;
const thresholds: Record<string, number> = { fatal: 60, error: 50, warn: 40, info: 30, debug: 20, trace: 10, silent: Infinity };

/** JSON lines in the shape the workers' logger writes, so one log pipeline reads both. */
function primaryLog(level: string) {
  const threshold = thresholds[level] ?? levels.info;
  const base = { pid: process.pid, hostname: hostname(), role: 'primary' };
  return (at: keyof typeof levels, fields: Record<string, unknown>, msg: string) => {
    if (levels[at] < threshold) return;
    process.stdout.write(`${JSON.stringify({ level: levels[at], time: Date.now(), ...base, ...fields, msg })}\n`);
  };
}
