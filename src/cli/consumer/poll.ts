import { parseCommandArgs, usageError } from '../command-error.js';
import { connect, connectionOptions } from './connection.js';
import { fileCursorStore } from './file-cursor-store.js';
import { asCommandFailure } from './herald-failure.js';
import { isBrokenPipe, stopSignal, writeLines } from './ndjson-output.js';

const options = {
  ...connectionOptions,
  resource: { type: 'string' },
  source: { type: 'string' },
  type: { type: 'string', multiple: true },
  subject: { type: 'string' },
  'alternative-subject': { type: 'string' },
  after: { type: 'string' },
  'cursor-file': { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  size: { type: 'string' },
} as const;

/**
 * `herald poll`: reads the log (`GET /events`, following `next`) and prints each event as one line of JSON.
 * With `--cursor-file` the position is saved after each page is written, so the next run goes on from there;
 * Ctrl-C stops between pages with it saved. Without `--follow` it ends once it has caught up.
 */
export async function pollCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs('poll', args, options, true);
  if (positionals.length > 0) throw usageError(`poll: unexpected argument '${positionals[0]}'.`);
  if (values.resource === undefined && values.source === undefined) throw usageError('poll: give --resource or --source (or both).');
  if (values.subject !== undefined && values['alternative-subject'] !== undefined) {
    throw usageError('poll: give --subject or --alternative-subject, not both.');
  }
  const size = values.size === undefined ? undefined : Number(values.size);
  if (size !== undefined && !(Number.isInteger(size) && size >= 1 && size <= 1000)) {
    throw usageError(`poll: --size must be a whole number from 1 to 1000, not '${values.size}'.`);
  }
  const herald = await connect('poll', values);
  const stop = stopSignal();
  try {
    const pages = herald.poll(
      {
        resource: values.resource,
        source: values.source,
        type: values.type,
        subject: values.subject,
        alternativeSubject: values['alternative-subject'],
        size,
      },
      {
        cursor: values['cursor-file'] === undefined ? undefined : fileCursorStore(values['cursor-file']),
        start: values.after,
        follow: values.follow === true,
        signal: stop.signal,
      },
    );
    // No `break` here: the generator saves a page's position when asked for the next one, and stops by the signal.
    for await (const page of pages) await writeLines(process.stdout, page.events);
  } catch (error) {
    if (isBrokenPipe(error)) return;
    throw asCommandFailure('poll', error);
  } finally {
    stop.dispose();
  }
}
