import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { scopes } from '../../../domain/identity.js';
import { formatPollPosition, type PollCursor } from '../../../domain/poll-cursor.js';
import { defaultPollExamineLimit, examineBound, type PollQuery, parsePollQuery } from '../../../domain/poll-query.js';
import type { Authorizer } from '../../../domain/policy.js';
import { selectedBody } from '../../../store/log-page-bytes.js';
import type { LogPageBytes, LogQuery, Store } from '../../../store/store.js';
import { callerOf } from '../../auth/authenticate.js';
import { componentRef } from '../../openapi-components.js';
import { nextPollUrl } from '../../next-link.js';
import { PollReadAhead } from '../../poll-read-ahead.js';
import { readableEvents } from '../../readable-events.js';
import { HttpProblem, invalid } from '../../problems.js';

export interface PollRouteOptions {
  readonly store: Store;
  readonly authorizer: Authorizer;
  readonly baseUrl: string | undefined;
  /** Log rows one poll examines at most (docs/storage.md); unset, the default. */
  readonly examineAtMost?: number | undefined;
  /** Pages read before they are asked for (docs/poll.md#read-ahead); `false` reads each when asked. */
  readonly readAhead?: PollReadAhead | false | undefined;
}

const pollPath = '/events/api/v1/events';
const maxPollTypes = 100;

/**
 * What Fastify takes: strings (and `type` as a list), so that `parsePollQuery` answers bad values in Altinn's
 * words. The document shows `pollQueryDocs` instead.
 */
export const PollQueryString = Type.Object({
  after: Type.Optional(Type.String()),
  resource: Type.Optional(Type.String()),
  source: Type.Optional(Type.String()),
  // Each type is one condition in the log query; thousands of them overflow SQLite's expression depth.
  type: Type.Optional(Type.Array(Type.String(), { maxItems: maxPollTypes })),
  subject: Type.Optional(Type.String()),
  alternativesubject: Type.Optional(Type.String()),
  size: Type.Optional(Type.String()),
});

/**
 * The query as Herald reads it. Optional filters carry no `examples`: the docs page would fill them in, and a
 * first "Try it out" would then read a filtered (likely empty) log. Examples live in the descriptions.
 */
export const pollQueryDocs = Type.Object({
  after: Type.String({
    description: "The id of the last event processed, '0' for the start, or a next-link position (`~1042`).",
    examples: ['0'],
  }),
  resource: Type.Optional(
    Type.String({ description: 'Resource URN the events concern, e.g. `urn:altinn:resource:dodsbo.domstoladmin.api`. Give `resource`, `source` or both.' }),
  ),
  source: Type.Optional(
    Type.String({ description: "Event source; '%' matches any run of characters, e.g. `https://api.domstol.no/dodsbo-api/v1/dodsbo/%`." }),
  ),
  type: Type.Optional(
    Type.Array(Type.String(), {
      description: "Event types (repeatable, at most 100); '%' is a wildcard.",
      maxItems: maxPollTypes,
    }),
  ),
  subject: Type.Optional(Type.String({ description: 'Exact subject, e.g. `/party/50015641`.' })),
  alternativesubject: Type.Optional(
    Type.String({
      description: "Exact alternative subject; not with 'subject'. Send it as the Altinn-AlternativeSubject header instead, to keep personal numbers out of URLs.",
    }),
  ),
  size: Type.Optional(
    Type.Integer({ description: 'Page size, default 50. Below 1 means 50 and above 1000 means 1000, as in Altinn.' }),
  ),
});

const pollDocs = {
  summary: 'Read the event log',
  description:
    "One page of events in commit order, from after the event named in 'after'. The `next` header (and " +
    '`Link: rel="next"`) holds the URL of the next call, also on an empty page. An unknown `after` is a 400, ' +
    'never a replay from the start; one from before the retention period is a 410.',
  tags: ['Events'],
  operationId: 'getEvents',
  documentedQuery: pollQueryDocs,
  documentedHeaders: Type.Object({
    'Altinn-AlternativeSubject': Type.Optional(
      Type.String({ description: "The alternative subject filter, kept out of the URL (and so out of access logs); not with 'subject'." }),
    ),
  }),
  documentedResponses: {
    200: {
      description: 'Events the caller may read, in commit order; an empty array when there are no more yet.',
      headers: {
        next: { type: 'string', description: 'The full URL to call next.' },
        link: { type: 'string', description: 'The same URL as `<…>; rel="next"`.' },
      },
      content: { 'application/cloudevents-batch+json': { schema: { type: 'array', items: componentRef('CloudEvent') } } },
    },
  },
  problems: [410, 429],
};

/**
 * `GET /events`: one page of the log in commit order, with a `next` link that always advances past what
 * was read. An `after` Herald does not know is refused, never replayed from the start.
 */
export async function pollRoute(app: FastifyInstance, options: PollRouteOptions): Promise<void> {
  const { store } = options;
  const readAhead = options.readAhead === false ? undefined : (options.readAhead ?? new PollReadAhead());
  if (readAhead) app.addHook('onClose', () => readAhead.idle());
  app.get(
    pollPath,
    {
      config: { scopes: [scopes.subscribe] },
      schema: { querystring: PollQueryString, ...pollDocs },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const query = request.query as Record<string, unknown>;
      const queryStart = request.url.indexOf('?');
      const rawQuery = queryStart < 0 ? '' : request.url.slice(queryStart + 1);
      const parsed = parsePollQuery(query, headerText(request, 'altinn-alternativesubject'), rawQuery);
      if (!parsed.ok) throw invalid('invalidQuery', parsed.errors);
      const poll = parsed.value;

      const afterSeq = await resolveCursor(store, poll.cursor, poll, options.authorizer, caller.consumer);
      // Retention removed events after this cursor: say so, rather than skip them silently.
      const removedThrough = await store.retention.removedThrough();
      if (poll.cursor.kind !== 'start' && afterSeq < removedThrough) throw cursorExpired(removedThrough);
      const examineAtMost = examineBound(options.examineAtMost ?? defaultPollExamineLimit, poll.types, poll.source);
      const read = logQuery(poll, afterSeq, examineAtMost);
      // A page read ahead is settled (full, or cut short by the bound), so where it ends does not need the head.
      const ahead = readAhead && poll.cursor.kind === 'position' ? await readAhead.take(caller.consumer, read) : undefined;
      const page = ahead ? { ...ahead, head: 0 } : await readPage(store, poll, read);
      const { seqs, examinedThrough, head } = page;
      const lastRead = seqs.at(-1) ?? afterSeq;
      // The cursor moves past everything examined, matching or not: the next poll starts where this one ended.
      // A full page ends at its last event; one cut short by the bound, where the bound stopped (possibly an
      // empty page); one that reached the end of the log, at the head.
      const reached =
        seqs.length === poll.size ? lastRead : (examinedThrough ?? Math.max(lastRead, head));
      // Not at the end of the log: read the next page while this one is sent and the client reads it.
      if (readAhead && (seqs.length === poll.size || examinedThrough !== undefined)) {
        const nextQuery = logQuery(poll, reached, examineAtMost);
        readAhead.start(caller.consumer, nextQuery, () => store.readLogBytes(nextQuery));
      }
      const next = nextPollUrl(options.baseUrl ?? `${request.protocol}://${request.host}`, pollPath, query, reached);
      // Events the caller may not read are left out; the cursor still moves past them, and names none of them.
      const events = seqs.map((seq, index) => ({ seq, index }));
      const shown = await readableEvents(store, options.authorizer, caller.consumer, events);
      const kept = shown.length === events.length ? undefined : new Set(shown.map((event) => event.index));
      // The stored payloads as they are, in the array the engine made of them.
      return reply
        .header('next', next)
        .header('link', `<${next}>; rel="next"`)
        .type('application/cloudevents-batch+json; charset=utf-8')
        .send(selectedBody(page, (index) => kept === undefined || kept.has(index)));
    },
  );
}

/** The read a poll makes from `afterSeq`: everything that decides which events it finds. */
function logQuery(poll: PollQuery, afterSeq: number, examineAtMost: number): LogQuery {
  const { resource, source, types, subject, alternativesubject } = poll;
  return { afterSeq, resource, source, types, subject, alternativesubject, limit: poll.size, examineAtMost };
}

/** Reads a page when asked, with the head of the log read first. */
async function readPage(store: Store, poll: PollQuery, query: LogQuery): Promise<LogPageBytes & { head: number }> {
  // Read before the page: positions are handed out in commit order, so every event up to `head` has
  // committed and a page that is not full holds every match up to it.
  const head = await store.headPosition();
  if (poll.cursor.kind === 'position' && query.afterSeq > head) throw beyondTheLog(query.afterSeq);
  return { ...(await store.readLogBytes(query)), head };
}

/** A position after the newest event: not one Herald handed out. */
export function beyondTheLog(seq: number): HttpProblem {
  return new HttpProblem('unknownCursor', `Position ${seq} is beyond the end of the log: pass 0 to start over.`);
}

/**
 * Turns `after` into a log position. An event id is looked up within the poll's source, if it names one.
 * The event stream resolves its start (`after`, `Last-Event-ID`) the same way.
 */
export async function resolveCursor(
  store: Store,
  cursor: PollCursor,
  poll: Pick<PollQuery, 'source'>,
  authorizer: Authorizer,
  consumer: string,
): Promise<number> {
  if (cursor.kind === 'start') return 0;
  if (cursor.kind === 'position') return cursor.seq;
  // Ids are unique per source: prefer the event from the source the poll names, if it names one.
  const source = poll.source?.kind === 'tree' ? poll.source.uri : undefined;
  const seq =
    (source === undefined ? undefined : await store.findEventPosition(cursor.id, source)) ??
    (await store.findEventPosition(cursor.id));
  // An event the caller may not read is answered as unknown: `after` must not tell whether it exists.
  if (seq === undefined) {
    const removed =
      (source === undefined ? undefined : await store.retention.removedEventPosition(cursor.id, source)) ??
      (await store.retention.removedEventPosition(cursor.id));
    if (removed !== undefined) throw cursorExpired(await store.retention.removedThrough());
  }
  const readable = seq !== undefined && (await readableEvents(store, authorizer, consumer, [{ seq }])).length > 0;
  if (seq === undefined || !readable) {
    throw new HttpProblem(
      'unknownCursor',
      "No event with the id given in 'after' is known. Pass 0 to read from the start, or follow the 'next' link of your last poll.",
    );
  }
  return seq;
}

/** A cursor older than retention: events after it may be gone, so the reader is told where the log now starts. */
export function cursorExpired(removedThrough: number): HttpProblem {
  return new HttpProblem(
    'cursorExpired',
    "Events after the 'after' cursor are older than the retention period and have been removed. " +
      `Continue from the oldest event still kept with after=${formatPollPosition(removedThrough)}, or pass 0 to read from the start of what is kept.`,
  );
}

export function headerText(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
