import cluster from 'node:cluster';
import type { HeraldConfig } from '../config/config.js';
import { startServer } from '../server.js';
import { isPostgresUrl } from '../store/database-url.js';
import { holdServeLock, type ServeLock } from '../store/sqlite/process-lock.js';
import { limitHeapGrowth } from './heap-growth.js';
import { superviseWorkers, workerCount, workerSlot } from './workers.js';

export interface ServeOptions {
  /** `--workers`: a number of processes, or `0` / `auto` for one per core; unset, this process serves. */
  readonly workers?: string | undefined;
}

/**
 * `herald serve`: runs until SIGTERM or SIGINT, then shuts down gracefully. With `--workers` this process
 * supervises that many workers instead (see workers.ts), and each of them comes back here to serve.
 */
export async function serve(config: HeraldConfig, options: ServeOptions = {}): Promise<void> {
  if (options.workers !== undefined && cluster.isPrimary) return superviseWorkers(config, workerCount(options.workers));
  // Before any connection thread starts, so every heap of the process collects by the same rule.
  limitHeapGrowth(config.heapGrowthPercent);
  // SQLite serves one process: a second one on the same file stops here, naming the first.
  const lock: ServeLock | undefined = isPostgresUrl(config.database) ? undefined : holdServeLock(config.database);
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let stopping = false;
  /** A signal that came while the server was starting: acted on once it has started. */
  let signalledDuringStart: string | undefined;
  const shutdown = (signal: string) => {
    if (stopping) return;
    if (!server) {
      signalledDuringStart ??= signal;
      return;
    }
    stopping = true;
    const running = server;
    running.app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    running.stop().then(
      () => {
        lock?.release();
        process.exit(0);
      },
      (error: unknown) => {
        running.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // Installed before the server starts: a worker that a supervisor stops the moment it reports listening
  // (its primary hears of it before the worker's own code goes on) must still stop gracefully, not die of
  // the signal's default action.
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    // A worker of `--workers` answers /metrics for its whole group.
    const workerGroup = cluster.isWorker && options.workers !== undefined
      ? { slot: workerSlot(), size: workerCount(options.workers) }
      : undefined;
    server = await startServer(config, { workerGroup });
  } catch (error) {
    lock?.release();
    throw error;
  }
  if (signalledDuringStart) shutdown(signalledDuringStart);
}
