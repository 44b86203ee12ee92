import type { SqliteConnections } from './sqlite-connections.js';

/** How long commits gather in the log before a checkpoint copies them into the database file. */
const checkpointAfterMs = 250;
/** Log frames (pages) past which the log is made to start over: 64 MiB. */
const logFramesAtMost = 16_384;

interface CheckpointResult {
  /** Frames in the log. */
  readonly log: number;
  /** Frames copied into the database file so far. */
  readonly checkpointed: number;
}

/**
 * Moves checkpoints off the commit path. SQLite checkpoints inside the COMMIT that pushes the log past 1,000
 * pages, writing pages back and syncing the database file while the writer waits: about half of a busy
 * writer's time (issue 13). Here the writer never checkpoints (`wal_autocheckpoint = 0`); a quarter of a
 * second after writes, the maintenance connection copies what it can without waiting for anyone (PASSIVE),
 * beside the writer and the readers.
 *
 * A log that is all copied still only starts over when a commit finds no reader in it, and under steady
 * publishing and delivery there nearly always is one: measured, the log grew to 370 MiB. Past 64 MiB a
 * RESTART checkpoint waits up to 50 ms for the readers to leave, so the next commit starts the log over (cut
 * back to 64 MiB). It holds the writer off while it waits, so it does not truncate the file to nothing, as
 * TRUNCATE would: that took 120–170 ms of a writer's time at every such checkpoint, and stalled publishes.
 */
export class Checkpoints {
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly connections: SqliteConnections,
    /** Log frames past which the log is made to start over (tests use a small log). */
    private readonly restartPastFrames = logFramesAtMost,
  ) {}

  /** A commit added to the log. */
  written(): void {
    this.dirty = true;
    this.schedule();
  }

  /** Waits for a checkpoint under way; none starts after. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(): void {
    if (this.timer || this.running || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.step().then(() => {
        this.running = undefined;
        if (this.dirty) this.schedule();
      });
    }, checkpointAfterMs);
    this.timer.unref();
  }

  /**
   * One checkpoint, as the timer runs it (tests call it directly): the log's length in frames, and whether
   * the next commit starts it over.
   */
  async step(): Promise<{ log: number; restarts: boolean }> {
    this.dirty = false;
    try {
      const passive = await this.connections.maintain<CheckpointResult>({ op: 'checkpoint', mode: 'PASSIVE' });
      if (passive.log <= this.restartPastFrames) return { log: passive.log, restarts: false };
      const restart = await this.connections.maintain<CheckpointResult & { busy: number }>({ op: 'checkpoint', mode: 'RESTART' });
      // Readers stayed: try again at the next checkpoint, after writes or not.
      if (restart.busy) this.dirty = true;
      return { log: passive.log, restarts: !restart.busy };
    } catch {
      // A checkpoint that fails (busy, say) leaves the log longer; the next one copies it.
      this.dirty = true;
      return { log: -1, restarts: false };
    }
  }
}
