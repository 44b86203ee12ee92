import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { Type } from 'typebox';
import { scopes } from '../../../domain/identity.js';
import { defaultPollExamineLimit, examineBound, pollPageSize } from '../../../domain/poll-query.js';
import type { Authorizer } from '../../../domain/policy.js';
import { parseStreamQuery, type StreamQuery } from '../../../domain/stream-query.js';
import { defaultStreamLimits, type StreamLimits, StreamSlots } from '../../../domain/stream-slots.js';
import type { Store } from '../../../store/store.js';
import { callerOf } from '../../auth/authenticate.js';
import { LogStream, type LogStreamObserver } from '../../log-stream.js';
import { HttpProblem, invalid } from '../../problems.js';
import { tooManyRequests } from '../../rate-limits.js';
import { eventStreamType } from '../../server-sent-events.js';
import { beyondTheLog, cursorExpired, headerText, PollQueryString, pollQueryDocs, resolveCursor } from './poll.js';

/** The heartbeat's default period (HERALD_STREAM_HEARTBEAT). */
export const defaultStreamHeartbeatMs = 15_000;

/** How long a stream that is ended (shutdown, an expired token) may take to hand over what it still holds. */
const finishGraceMs = 1_000;

/** When a refused stream may try again: slots free as other streams close, which nothing predicts. */
const retryAfterMs = 5_000;

/** The longest a timer can wait (about 24.8 days); a token valid for longer is not ended by its expiry. */
const maxTimerMs = 2 ** 31 - 1;

export interface StreamRouteOptions {
  readonly store: Store;
  readonly authorizer: Authorizer;
  /** Log rows one read examines at most, as for a poll; unset, the default. */
  readonly examineAtMost?: number | undefined;
  readonly heartbeatMs?: number | undefined;
  readonly limits?: StreamLimits | undefined;
  /** Told when streams open, close, send and wait for their clients (metrics). */
  readonly observer?: StreamRouteObserver | undefined;
}

export interface StreamRouteObserver extends LogStreamObserver {
  opened?(): void;
  closed?(): void;
}

export const streamPath = '/events/api/v1/events/stream';

const StreamQueryString = Type.Omit(PollQueryString, ['size']);

const { after: _after, size: _size, ...pollFilterDocs } = pollQueryDocs.properties;

/** The poll's filters as the document shows them, and an optional `after`. */
const streamQueryDocs = Type.Object({
  after: Type.Optional(
    Type.String({
      description:
        "Where to start: '0' for the start of the log, an event id or a position (`~1042`), as a poll's `after`. " +
        'Left out (and no `Last-Event-ID`): only events committed after the stream opened.',
    }),
  ),
  ...pollFilterDocs,
});

const streamDocs = {
  summary: 'Follow the event log as Server-Sent Events',
  description:
    'The events a poll with the same filters would return, in commit order, each once, as they are committed: ' +
    "one message per event, its `id` the event's log position (`~1042`) and its `data` the CloudEvent as one " +
    'line of JSON. A comment (`: heartbeat`) comes every 15 s by default. A reconnecting client sends the last id in ' +
    '`Last-Event-ID` and resumes after it. Errors found before the stream starts are problem details. ' +
    'Browsers read it with `fetch` and a streaming body (EventSource cannot send a token); see docs/poll.md.',
  tags: ['Events'],
  operationId: 'streamEvents',
  documentedQuery: streamQueryDocs,
  documentedHeaders: Type.Object({
    'Last-Event-ID': Type.Optional(
      Type.String({ description: "The `id` of the last message received; wins over `after`. EventSource sends it when it reconnects." }),
    ),
    'Altinn-AlternativeSubject': Type.Optional(
      Type.String({ description: "The alternative subject filter, kept out of the URL (and so out of access logs); not with 'subject'." }),
    ),
  }),
  documentedResponses: {
    200: {
      description:
        'An event stream that stays open: `id: ~<position>` and `data: <CloudEvent JSON>` per event, and heartbeat comments.',
      content: {
        'text/event-stream': {
          schema: {
            type: 'string',
            examples: [': stream open\n\nid: ~1042\ndata: {"specversion":"1.0","id":"e1","source":"https://x.test/app","type":"created","resource":"urn:altinn:resource:app"}\n\n: heartbeat\n\n'],
          },
        },
      },
    },
  },
  problems: [410, 429],
};

/**
 * `GET /events/stream`: the poll's log as Server-Sent Events. Everything a poll would refuse is refused here
 * before the stream starts, as problem details; then the stream follows the log until the client goes away,
 * the server closes, or the caller's token expires.
 */
export async function streamRoute(app: FastifyInstance, options: StreamRouteOptions): Promise<void> {
  const { store, authorizer } = options;
  const slots = new StreamSlots(options.limits ?? defaultStreamLimits);
  const open = new Set<LogStream>();
  // Before the server stops listening: open streams would otherwise hold its close up for ever.
  app.addHook('preClose', async () => {
    for (const stream of open) stream.finish(finishGraceMs);
  });
  app.get(
    streamPath,
    { config: { scopes: [scopes.subscribe] }, schema: { querystring: StreamQueryString, ...streamDocs } },
    async (request, reply) => {
      const caller = callerOf(request);
      const queryStart = request.url.indexOf('?');
      const rawQuery = queryStart < 0 ? '' : request.url.slice(queryStart + 1);
      const parsed = parseStreamQuery(
        request.query as Record<string, string>,
        headerText(request, 'altinn-alternativesubject'),
        rawQuery,
        headerText(request, 'last-event-id'),
      );
      if (!parsed.ok) throw invalid('invalidQuery', parsed.errors);
      const query = parsed.value;
      const afterSeq = await startPosition(store, authorizer, caller.consumer, query);
      // A HEAD learns whether the stream would open, and nothing is followed for it: Fastify would drain a stream
      // sent to a HEAD for ever.
      if (request.method === 'HEAD') return reply.type(eventStreamType).header('cache-control', 'no-store').send();

      const slot = slots.take(caller.consumer);
      if ('full' in slot) throw refusal(slot.full, slots.limits);
      const stream = new LogStream({
        store,
        authorizer,
        consumer: caller.consumer,
        query: {
          afterSeq,
          resource: query.resource,
          source: query.source,
          types: query.types,
          subject: query.subject,
          alternativesubject: query.alternativesubject,
          limit: pollPageSize.default,
          examineAtMost: examineBound(options.examineAtMost ?? defaultPollExamineLimit, query.types, query.source),
        },
        heartbeatMs: options.heartbeatMs ?? defaultStreamHeartbeatMs,
        observer: options.observer,
      });
      open.add(stream);
      options.observer?.opened?.();
      const expiry = tokenExpiry(request);
      const ending = expiry === undefined ? undefined : setTimeout(() => stream.finish(finishGraceMs), expiry);
      stream.once('close', () => {
        clearTimeout(ending);
        open.delete(stream);
        slot.release();
        options.observer?.closed?.();
      });
      return reply
        .type(eventStreamType)
        .header('cache-control', 'no-store')
        // Reverse proxies that buffer answers (nginx) would hold events back: this asks them not to.
        .header('x-accel-buffering', 'no')
        .send(stream);
    },
  );
}

/** The position the stream reads after: checked as a poll checks `after`. */
async function startPosition(store: Store, authorizer: Authorizer, consumer: string, query: StreamQuery): Promise<number> {
  const { start } = query;
  if (start.kind === 'now') return store.headPosition();
  const afterSeq = await resolveCursor(store, start, query, authorizer, consumer);
  if (start.kind === 'position' && afterSeq > (await store.headPosition())) throw beyondTheLog(afterSeq);
  // Retention removed events after this cursor: say so, rather than skip them silently.
  const removedThrough = await store.retention.removedThrough();
  if (start.kind !== 'start' && afterSeq < removedThrough) throw cursorExpired(removedThrough);
  return afterSeq;
}

function refusal(full: 'consumer' | 'process', limits: StreamLimits): HttpProblem {
  const seconds = String(Math.ceil(retryAfterMs / 1000));
  if (full === 'consumer') {
    const problem = tooManyRequests(retryAfterMs, 'open streams');
    return new HttpProblem(
      'tooManyRequests',
      `${problem.detail} A consumer may hold ${limits.perConsumer} streams open at once: close one first.`,
      { headers: { 'retry-after': seconds } },
    );
  }
  return new HttpProblem(
    'tooManyRequests',
    `This Herald has as many streams open as it serves (${limits.perProcess}): retry in ${seconds} s, or poll meanwhile.`,
    { headers: { 'retry-after': seconds } },
  );
}

/**
 * Milliseconds until the caller's token expires, read from the token authentication has verified: a stream
 * ends then, and the client reconnects with a fresh token. Undefined for a token without `exp`.
 */
function tokenExpiry(request: FastifyRequest): number | undefined {
  const token = /^Bearer\s+(\S+)/i.exec(request.headers.authorization ?? '')?.[1];
  if (token === undefined) return undefined;
  const exp = decodeJwt(token).exp;
  if (exp === undefined) return undefined;
  const left = Math.max(0, exp * 1000 - Date.now());
  return left > maxTimerMs ? undefined : left;
}
