import { type CursorStore, type HeraldClient, memoryCursorStore } from '@herald/client';
import { parseCommandArgs, parseSubscriptionId, usageError } from '../command-error.js';
import { connect, connectionOptions } from './connection.js';
import { fileCursorStore } from './file-cursor-store.js';
import { asCommandFailure } from './herald-failure.js';
import { isBrokenPipe, stopSignal, writeLines } from './ndjson-output.js';

const options = {
  ...connectionOptions,
  follow: { type: 'boolean', short: 'f' },
  limit: { type: 'string' },
  'checkpoint-file': { type: 'string' },
} as const;

/**
 * `herald pull <subscriptionId>`: drains a pull subscription's queue, printing each event as one line of
 * JSON. A page is acknowledged (its checkpoint passed back to Herald) only after its lines were written to
 * stdout, so a kill at any moment loses nothing: what was not acknowledged is served again. On a clean stop
 * (drained, or Ctrl-C) the last page printed is acknowledged before exiting.
 */
export async function pullCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs('pull', args, options, true);
  if (positionals.length > 1) throw usageError(`pull: unexpected argument '${positionals[1]}'.`);
  const subscriptionId = parseSubscriptionId('pull', positionals[0]);
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 5000)) {
    throw usageError(`pull: --limit must be a whole number from 1 to 5000, not '${values.limit}'.`);
  }
  const herald = await connect('pull', values);
  const file = values['checkpoint-file'] === undefined ? undefined : fileCursorStore(values['checkpoint-file']);
  const checkpoint = trackedStore(file);
  const stop = stopSignal();
  try {
    let stopped = false;
    try {
      await herald.pull(subscriptionId, (events) => writeLines(process.stdout, events), {
        checkpoint,
        limit,
        follow: values.follow === true,
        signal: stop.signal,
      });
      stopped = stop.signal.aborted;
    } catch (error) {
      // The page being written when the reader went away stays unacknowledged; the ones before it are done.
      if (!isBrokenPipe(error)) throw error;
      stopped = true;
    }
    if (stopped) await acknowledge(herald, subscriptionId, checkpoint);
  } catch (error) {
    throw asCommandFailure('pull', error);
  } finally {
    stop.dispose();
  }
}

/** The file store (if any), remembering the last checkpoint saved in memory too. */
function trackedStore(file: CursorStore | undefined): CursorStore & { readonly cursor: string | undefined } {
  const memory = memoryCursorStore();
  return {
    get cursor() {
      return memory.cursor;
    },
    async load() {
      const loaded = await file?.load();
      if (loaded !== undefined) await memory.save(loaded);
      return loaded;
    },
    async save(cursor) {
      await file?.save(cursor);
      await memory.save(cursor);
    },
  };
}

class StopAfterAcknowledging extends Error {}

/**
 * Passes the last checkpoint back to Herald, acknowledging the page printed before Ctrl-C. The client has no
 * call that only acknowledges, so this reads one more event with it and stops there, leaving that event
 * unacknowledged (a read hands nothing out exclusively: it stays queued).
 */
async function acknowledge(herald: HeraldClient, subscriptionId: number, checkpoint: { readonly cursor: string | undefined }): Promise<void> {
  if (checkpoint.cursor === undefined) return;
  const signal = AbortSignal.timeout(5_000);
  try {
    await herald.pull(
      subscriptionId,
      () => {
        throw new StopAfterAcknowledging();
      },
      { checkpoint: memoryCursorStore(checkpoint.cursor), limit: 1, follow: false, signal },
    );
  } catch (error) {
    if (!(error instanceof StopAfterAcknowledging) && !signal.aborted) throw error;
  }
}
