import type { CursorStore } from './cursor-store.js';
import { HeraldProblemError } from './problem.js';
import { foreverRetry, sleep } from './retry.js';
import type { Transport } from './transport.js';
import type { CloudEvent } from './types.js';

/** What to read from the log (docs/poll.md). At least one of `resource` and `source`. */
export interface PollQuery {
  readonly resource?: string;
  /** Without `%`: that URI and every path below it; `%` matches any run of characters. */
  readonly source?: string;
  /** An event matches any of them; `%` is a wildcard. */
  readonly type?: string | readonly string[];
  readonly subject?: string;
  /** Sent as the `Altinn-AlternativeSubject` header, so personal numbers stay out of URLs and logs. */
  readonly alternativeSubject?: string;
  /** Events per page, 1 to 1000 (default 50). */
  readonly size?: number;
}

export interface PollOptions {
  /** Keeps the position between runs; without one, every run starts at `start`. */
  readonly cursor?: CursorStore;
  /** Where to start when the cursor store holds nothing: `0` (the default) for the start of the log, an event id, or `~<position>`. */
  readonly start?: string;
  /** Keep waiting for new events once caught up (the default), or end there. */
  readonly follow?: boolean;
  /** How long to wait before polling again once caught up. Default 1 s (`GET /events` has no long polling). */
  readonly idleDelayMs?: number;
  /** Ends the iteration (after saving the position of the pages already handled). */
  readonly signal?: AbortSignal;
}

/** One page of the log. */
export interface PollPage {
  readonly events: readonly CloudEvent[];
  /** The position after this page (`~1042`): what the cursor store is given once you ask for the next page. */
  readonly after: string;
  /** The `next` link Herald answered with. */
  readonly next: string;
}

/**
 * The stored cursor is refused: `events:unknownCursor` (400: Herald knows no event or position by it) or
 * `events:cursorExpired` (410: retention removed events after it). The message says what to do.
 */
export class PollCursorError extends HeraldProblemError {
  override readonly name = 'PollCursorError';
  constructor(
    readonly cursor: string,
    problem: HeraldProblemError,
  ) {
    super(problem.problem as Record<string, unknown>, problem.status, { message: cursorAdvice(cursor, problem) });
  }
}

function cursorAdvice(cursor: string, problem: HeraldProblemError): string {
  if (problem.code === 'events:cursorExpired') {
    return (
      `Herald answered 410 events:cursorExpired for after=${cursor}: retention removed events after it, so some ` +
      `were never read. ${problem.detail} To go on, save the position the detail names (or 0) in your cursor store ` +
      'and start again, knowing that the removed events are lost to this reader.'
    );
  }
  return (
    `Herald answered 400 events:unknownCursor for after=${cursor}: it knows no event or position by it (a cursor ` +
    'from another Herald or database, a position beyond the log after a restore, or a typo). Herald never replays ' +
    'silently from the start: to read the whole log again, save 0 in your cursor store (or delete what it holds) ' +
    `and start again; to go on from a known event, save its id. ${problem.detail}`
  );
}

/**
 * Reads the log page by page, following each answer's `next` link. The position is saved in the cursor store
 * when you ask for the page after one (so after your loop body handled it): a crash re-reads at most a page.
 * Waits and tries again on 429, 503 and while Herald is unreachable; throws `PollCursorError` on a cursor
 * Herald refuses, and `HeraldProblemError` on other refusals.
 */
export async function* pollEvents(transport: Transport, query: PollQuery, options: PollOptions = {}): AsyncGenerator<PollPage, void, undefined> {
  const store = options.cursor;
  let after = (await store?.load()) ?? options.start ?? '0';
  const headers = query.alternativeSubject ? { 'altinn-alternativesubject': query.alternativeSubject } : undefined;
  for (;;) {
    let response: Response;
    try {
      response = await transport.send({
        method: 'GET',
        path: '/events',
        query: pollParameters(query, after),
        headers,
        idempotent: true,
        retry: foreverRetry,
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) return;
      if (error instanceof HeraldProblemError && (error.code === 'events:unknownCursor' || error.code === 'events:cursorExpired')) {
        throw new PollCursorError(after, error);
      }
      throw error;
    }
    const events = (await response.json()) as CloudEvent[];
    const next = response.headers.get('next');
    const reached = next === null ? null : new URL(next).searchParams.get('after');
    if (next === null || reached === null) throw new Error(`Herald answered GET /events without a usable next link (${next}).`);
    if (events.length > 0) yield { events, after: reached, next };
    const moved = reached !== after;
    after = reached;
    if (moved) await store?.save(after);
    // Keep following without waiting while the position moves; once it stays, the reader has caught up.
    else if (options.follow === false) return;
    else await sleep(options.idleDelayMs ?? 1_000, options.signal).catch(() => {});
    if (options.signal?.aborted) return;
  }
}

function pollParameters(query: PollQuery, after: string): URLSearchParams {
  const parameters = new URLSearchParams({ after });
  if (query.resource !== undefined) parameters.set('resource', query.resource);
  if (query.source !== undefined) parameters.set('source', query.source);
  for (const type of typeof query.type === 'string' ? [query.type] : (query.type ?? [])) parameters.append('type', type);
  if (query.subject !== undefined) parameters.set('subject', query.subject);
  if (query.size !== undefined) parameters.set('size', String(query.size));
  return parameters;
}
