import type { HeraldConfig } from '../config/config.js';
import { hasControlCharacters } from '../domain/control-characters.js';
import { parseDuration } from '../domain/duration.js';
import { formatPollPosition, type PollCursor, parsePollCursor } from '../domain/poll-cursor.js';
import { defaultPollExamineLimit, examineBound } from '../domain/poll-query.js';
import { isValidResourceUrn } from '../domain/resource-urn.js';
import { parseSourceFilter } from '../domain/source-filter.js';
import { parseTextPattern } from '../domain/text-pattern.js';
import type { LoggedEvent, LogQuery, Store } from '../store/store.js';
import { notFound, parseCommandArgs, usageError } from './command-error.js';
import { formatEvent } from './event-format.js';
import { openOperatorStore } from './operator-store.js';
import { WaitingLine } from './waiting-line.js';

/** How often the log is read again when no announcement says something changed. */
export const defaultTailIntervalMs = 500;
/** Events read per query while catching up. */
const pageSize = 1_000;
/** Below this, polling would only load the database. */
const minIntervalMs = 50;

/** A validated `herald events tail`. */
export interface TailOptions {
  /** Where to start: undefined for the head of the log (only new events). */
  readonly start: PollCursor | undefined;
  readonly filters: Omit<LogQuery, 'afterSeq' | 'limit'>;
  /** Stop after this many events; undefined to follow until interrupted. */
  readonly limit: number | undefined;
  readonly json: boolean;
  readonly intervalMs: number;
}

/** Where output goes, and what stops the tail (SIGINT in the CLI). */
export interface TailIo {
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WriteStream;
  readonly signal: AbortSignal;
}

/** `herald events <verb>`: only `tail` for now. */
export async function eventsCommand(config: HeraldConfig, argv: string[]): Promise<void> {
  const [verb, ...args] = argv;
  if (verb !== 'tail') {
    throw usageError(verb === undefined ? 'events: say tail.' : `events: unknown command '${verb}' (tail).`);
  }
  const options = parseTailOptions(args);
  const stop = new AbortController();
  const interrupt = () => stop.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  // A reader that went away (`| head`) ends the tail like Ctrl-C does.
  process.stdout.on('error', interrupt);
  const store = await openOperatorStore(config);
  try {
    await tailEvents(store, options, { out: process.stdout, err: process.stderr, signal: stop.signal });
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await store.close();
  }
}

/** Checks every option before the database is touched, so a typo costs nothing. */
export function parseTailOptions(args: string[]): TailOptions {
  const command = 'events tail';
  const { values } = parseCommandArgs(command, args, {
    after: { type: 'string' },
    'from-start': { type: 'boolean' },
    source: { type: 'string' },
    type: { type: 'string', multiple: true },
    resource: { type: 'string' },
    subject: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
    interval: { type: 'string' },
  });
  const refuse = (message: string) => usageError(`${command}: ${message}`);
  for (const [name, value] of Object.entries(values)) {
    const texts = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
    if (texts.some((text) => text === '')) throw refuse(`--${name} must not be empty.`);
    if (texts.some((text) => hasControlCharacters(text))) throw refuse(`--${name} must not contain control characters.`);
  }
  if (values.after !== undefined && values['from-start']) throw refuse('give --after or --from-start, not both.');
  if (values.resource !== undefined && !isValidResourceUrn(values.resource)) {
    throw refuse(`--resource must be a valid urn, such as urn:altinn:resource:app; not '${values.resource}'.`);
  }
  let limit: number | undefined;
  if (values.limit !== undefined) {
    limit = /^\d{1,9}$/.test(values.limit) ? Number(values.limit) : 0;
    if (limit < 1) throw refuse(`--limit must be a positive integer, not '${values.limit}'.`);
  }
  const intervalMs = values.interval === undefined ? defaultTailIntervalMs : parseDuration(values.interval);
  if (intervalMs === undefined || intervalMs < minIntervalMs) {
    throw refuse(`--interval must be a duration of at least ${minIntervalMs}ms, such as 500ms or 2s; not '${values.interval}'.`);
  }
  return {
    start: values['from-start'] ? { kind: 'start' } : values.after === undefined ? undefined : parsePollCursor(values.after),
    filters: {
      resource: values.resource,
      source: values.source === undefined ? undefined : parseSourceFilter(values.source),
      types: values.type?.map(parseTextPattern),
      subject: values.subject,
    },
    limit,
    json: values.json ?? false,
    intervalMs,
  };
}

/**
 * Follows the log with a cursor: prints every event after the start that passes the filters, in commit order,
 * then waits for more until `io.signal` aborts or `limit` events were printed. Commit order is sequence order
 * on both engines, so a cursor never skips an event that commits late.
 * @returns how many events were printed
 */
export async function tailEvents(store: Store, options: TailOptions, io: TailIo): Promise<number> {
  let after = await startPosition(store, options);
  io.err.write(`Following events after ${formatPollPosition(after)}${options.limit ? `, up to ${options.limit}` : ''} (Ctrl-C to stop).\n`);
  const waiting = new WaitingLine(io.err);
  const announced = new Wake();
  // Announcements cut a wait short: on PostgreSQL any process's commit (NOTIFY), on SQLite the server's commits
  // as this process sees the file change; the interval catches whatever a lost notice would miss.
  const stopWatching = store.watch(() => announced.fire());
  const onAbort = () => announced.fire();
  io.signal.addEventListener('abort', onAbort);
  let printed = 0;
  let outage: string | undefined;
  try {
    while (!io.signal.aborted) {
      const wanted = options.limit === undefined ? pageSize : Math.min(pageSize, options.limit - printed);
      let page: LoggedEvent[];
      let examinedThrough: number | undefined;
      try {
        // Bounded like a poll: a filter that matches rarely reads the log in steps, not to its end at once.
        ({ events: page, examinedThrough } = await store.readLog({
          ...options.filters,
          afterSeq: after,
          limit: wanted,
          examineAtMost: examineBound(defaultPollExamineLimit, options.filters.types ?? [], options.filters.source),
        }));
        if (outage !== undefined) waiting.note('The database answers again.');
        outage = undefined;
      } catch (error) {
        // A database that goes away for a while (a restart, a failover) does not end a long-running tail.
        const message = (error as Error).message;
        if (outage === undefined) waiting.note(`Cannot read the log (${message}); trying again.`);
        outage = message;
        page = [];
      }
      if (page.length > 0) waiting.clear();
      for (const event of page) {
        io.out.write(`${formatEvent(event, { json: options.json, color: isColorTerminal(io.out) })}\n`);
        after = event.seq;
        printed += 1;
      }
      if (options.limit !== undefined && printed >= options.limit) break;
      if (page.length === wanted) continue;
      if (examinedThrough !== undefined) {
        // Stopped at the bound with more of the log to examine: go on from there without waiting.
        after = examinedThrough;
        continue;
      }
      waiting.show(`waiting for events after ${formatPollPosition(after)}, ${printed} shown`);
      await announced.wait(options.intervalMs);
    }
  } finally {
    io.signal.removeEventListener('abort', onAbort);
    stopWatching();
    waiting.clear();
  }
  return printed;
}

/** The position to read after: the head unless told otherwise, as `tail -f` starts at the end of a file. */
async function startPosition(store: Store, options: TailOptions): Promise<number> {
  const start = options.start;
  if (start === undefined) return store.headPosition();
  if (start.kind === 'start') return 0;
  if (start.kind === 'position') {
    if (start.seq > (await store.headPosition())) {
      throw notFound(`Position ${formatPollPosition(start.seq)} is beyond the end of the log.`);
    }
    return start.seq;
  }
  // Ids are unique per source: with a plain --source the id is looked up there first, as polling does.
  const source = options.filters.source?.kind === 'tree' ? options.filters.source.uri : undefined;
  const position =
    (source === undefined ? undefined : await store.findEventPosition(start.id, source)) ??
    (await store.findEventPosition(start.id));
  if (position === undefined) throw notFound(`No event with id '${start.id}' in the log.`);
  return position;
}

function isColorTerminal(stream: NodeJS.WritableStream): boolean {
  return (stream as NodeJS.WriteStream).isTTY === true && !process.env.NO_COLOR;
}

/** A wait that an announcement or the stop signal cuts short. */
class Wake {
  private resolve: (() => void) | undefined;
  private pending = false;

  fire(): void {
    this.pending = true;
    this.resolve?.();
  }

  /** Resolves after `ms`, or at once if something fired since the last wait. */
  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.resolve = undefined;
        this.pending = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.resolve = done;
    });
  }
}
