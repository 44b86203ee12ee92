import type { SqliteConnections } from './sqlite-connections.js';

/** How long commits gather in the log before a checkpoint copies them into the database file. */
const checkpointAfterMs = 250;
/** Log frames (pages) past which a checkpoint that could not catch up waits for one that does: 64 MiB. */
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
 * beside the writer and the readers. Should readers keep it from catching up while the log grows past
 * 64 MiB, it waits for a moment without them and empties the log (TRUNCATE).
 */
export class Checkpoints {
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly connections: SqliteConnections) {}

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
      this.running = this.checkpoint().finally(() => {
        this.running = undefined;
        if (this.dirty) this.schedule();
      });
    }, checkpointAfterMs);
    this.timer.unref();
  }

  private async checkpoint(): Promise<void> {
    this.dirty = false;
    try {
      const passive = await this.connections.maintain<CheckpointResult>({ op: 'checkpoint', mode: 'PASSIVE' });
      if (passive.log > logFramesAtMost && passive.checkpointed < passive.log) {
        await this.connections.maintain({ op: 'checkpoint', mode: 'TRUNCATE' });
      }
    } catch {
      // A checkpoint that fails (busy, say) leaves the log longer; the next one copies it.
      this.dirty = true;
    }
  }
}
