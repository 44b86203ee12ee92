import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hasCeHeaders } from '../../../domain/binary-event.js';
import { parseMediaType } from '../../../domain/media-type.js';
import { choosePublishMode } from '../../../domain/publish-mode.js';
import { readPublishRequest } from '../../../domain/publish-request.js';
import type { GroupCommitAppender } from '../../../store/group-commit.js';
import type { ValidEvent } from '../../../domain/cloudevent.js';
import { hasAnyScope, type Principal, scopes } from '../../../domain/identity.js';
import type { Authorizer } from '../../../domain/policy.js';
import type { ConsumerRateLimiter } from '../../../domain/rate-limit.js';
import type { HeraldMetrics } from '../../../observability/herald-metrics.js';
import { callerOf } from '../../auth/authenticate.js';
import { componentRef } from '../../openapi-components.js';
import { contentNotStorableDetail } from '../../error-handler.js';
import { HttpProblem, invalid } from '../../problems.js';
import { isRefusedByStore } from '../../../store/store-errors.js';
import { tooManyRequests } from '../../rate-limits.js';
import type { PublishSpan, Tracing } from '../../../observability/tracing/tracing.js';

export interface PublishRouteOptions {
  readonly appender: GroupCommitAppender;
  readonly authorizer: Authorizer;
  /** Events per second per consumer; undefined when publishing is not limited. */
  readonly publishLimiter?: ConsumerRateLimiter | undefined;
  readonly maxEventBytes: number;
  readonly maxRequestBytes: number;
  readonly metrics?: HeraldMetrics | undefined;
  /** Spans for publishes (docs/observability.md#tracing); unset, none. */
  readonly tracing?: Tracing | undefined;
}

const publishPath = '/events/api/v1/events';

/**
 * `POST /events`: stores one event (structured or binary mode) or a batch, and answers 200 only once the
 * transaction holding them has committed.
 */
export async function publishRoute(app: FastifyInstance, options: PublishRouteOptions): Promise<void> {
  // The body is read raw: the content mode, not Fastify's parsers, decides how to read it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: options.maxRequestBytes },
    (_request, body, done) => done(null, body),
  );

  // Every answer but a 200 counts its events as refused (4xx) or failed (5xx): those it could read, else one.
  const eventsIn = new WeakMap<FastifyRequest, number>();
  // Each request's span, begun once its events are read (their `traceparent` may be its parent) and ended with
  // the answer; a request refused before that gets its span at the end.
  const tracing = options.tracing;
  const spans = new WeakMap<FastifyRequest, PublishSpan>();
  const startTime = (elapsedMs: number) => performance.now() - elapsedMs;
  if (tracing) {
    app.addHook('onResponse', async (request, reply) => {
      const span =
        spans.get(request) ??
        tracing.publishStarted({ headers: request.headers, startTime: startTime(reply.elapsedTime), route: publishPath, events: [] });
      span.ended(reply.statusCode);
    });
  }
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode < 400) return;
    options.metrics?.publishNotStored(reply.statusCode < 500 ? 'refused' : 'failed', eventsIn.get(request) ?? 1);
  });

  app.post(
    publishPath,
    {
      config: { scopes: [scopes.publish, scopes.publishAdmin] },
      schema: publishSchema,
    },
    async (request, reply) => {
      const contentType = request.headers['content-type'];
      const mediaType = parseMediaType(contentType);
      const mode = choosePublishMode(mediaType, hasCeHeaders(request.headers));
      if (!mode) {
        throw new HttpProblem(
          'unsupportedMediaType',
          `Content-Type '${contentType ?? '(none)'}' is not supported. Send application/cloudevents+json (one event), ` +
            'application/cloudevents-batch+json (a batch), application/json, or ce- headers (binary mode).',
        );
      }
      const parsed = readPublishRequest({
        mode,
        headers: request.headers,
        contentType,
        mediaType,
        body: request.body as Buffer | undefined,
      });
      if (!parsed.ok) {
        // A body that cannot be read as the mode requires (empty, not UTF-8, not JSON, not an object or an
        // array) is a malformed request, not an invalid event: the catalog in docs/problems.md says so.
        const unreadable = parsed.errors.every((error) => error.field === 'body');
        throw invalid(unreadable ? 'invalidRequest' : 'invalidEvent', parsed.errors);
      }
      eventsIn.set(request, parsed.value.length);
      const span = tracing?.publishStarted({
        headers: request.headers,
        startTime: startTime(reply.elapsedTime),
        route: publishPath,
        mode,
        events: parsed.value,
      });
      if (span) spans.set(request, span);

      parsed.value.forEach((event, index) => {
        const size = Buffer.byteLength(event.payload);
        if (size > options.maxEventBytes) {
          const which = mode === 'batch' ? `Event [${index}]` : 'The event';
          throw new HttpProblem(
            'payloadTooLarge',
            `${which} is ${size} bytes; the limit is ${options.maxEventBytes} bytes per event.`,
          );
        }
      });

      const caller = callerOf(request);
      authorizePublish(options.authorizer, caller, parsed.value, mode === 'batch');
      const wait = options.publishLimiter?.take(caller.consumer, parsed.value.length, Date.now()) ?? 0;
      if (wait > 0) throw tooManyRequests(wait, 'events');

      try {
        const events = span ? span.stamp(parsed.value) : parsed.value;
        const stored = await options.appender.append(events, span);
        options.metrics?.published(stored, reply.elapsedTime / 1000);
      } catch (error) {
        // Limits keep a valid event within every column and index, so this is a safety net: a refusal of the
        // events themselves is permanent, and answered as the client's error, not as the store's.
        if (isRefusedByStore(error)) {
          request.log.warn({ err: error }, 'store refused the events');
          throw new HttpProblem('contentNotStorable', contentNotStorableDetail(mode === 'batch' ? 'this batch' : 'this event'));
        }
        request.log.error({ err: error }, 'publish commit failed');
        throw new HttpProblem(
          'storeUnavailable',
          'The events could not be stored. Retry: publishing is idempotent on source and id.',
          { headers: { 'retry-after': '1' } },
        );
      }
      return reply.code(200).send();
    },
  );
}

/** The one example event of the API's documentation: publishing's, and what the filter routes try. */
export const exampleEvent = {
  specversion: '1.0',
  id: '91f2388f-bd8c-4647-8684-fd9f68af5b14',
  source: 'https://api.domstol.no/dodsbo-api/v1/dodsbo/91f2388f-bd8c-4647-8684-fd9f68af5b14',
  type: 'no.altinn.events.digitalt-dodsbo.opprettet',
  resource: 'urn:altinn:resource:dodsbo.domstoladmin.api',
  subject: '/party/50015641',
  time: '2020-02-20T08:00:06.4014168Z',
  datacontenttype: 'application/json',
  data: { dodsbo: 'opprettet' },
};

/** Documents the body: it is read raw, since the content mode decides how (see the route). */
const publishSchema = {
  summary: 'Publish an event or a batch',
  description:
    'Structured mode (`application/cloudevents+json`, or `application/json` as Altinn clients send), batch mode ' +
    '(`application/cloudevents-batch+json`, validated all or nothing) or binary mode (the data as the body in any ' +
    'media type, the attributes in `ce-` headers). Answers 200 once the events are durably stored; publishing is ' +
    'idempotent on (source, id). A batch over a commit\'s bounds is stored in pieces, each event with all its ' +
    'deliveries; after a 503 some of it may be stored, and a retry completes it.',
  tags: ['Events'],
  operationId: 'publishEvents',
  documentedBody: {
    'application/cloudevents+json': {
      schema: componentRef('CloudEvent'),
      examples: { structured: { summary: 'One event', value: exampleEvent } },
    },
    'application/cloudevents-batch+json': {
      schema: { type: 'array', items: componentRef('CloudEvent') },
      examples: {
        batch: {
          summary: 'Two events, refused together if either is invalid',
          value: [
            { ...exampleEvent, id: 'b3e7f0f2-9c4e-4a44-b8f5-0f6a1f6f2a01' },
            { ...exampleEvent, id: 'b3e7f0f2-9c4e-4a44-b8f5-0f6a1f6f2a02', type: 'no.altinn.events.digitalt-dodsbo.oppdatert' },
          ],
        },
      },
    },
    // Plain JSON is a structured event without `ce-` headers (as Altinn's clients send) and binary mode's data
    // with them: the document cannot tell the two apart by headers, so it takes either.
    'application/json': {
      schema: {
        anyOf: [componentRef('CloudEvent'), { description: "Binary mode (with `ce-` headers): the event's data, any JSON." }],
      },
      examples: {
        altinnApp: {
          summary: 'An app event, as Altinn clients send it',
          value: {
            specversion: '1.0',
            id: 'e9a3c1d0-5b7f-4d8e-9a0b-1c2d3e4f5a6b',
            source: 'https://ttd.apps.altinn.no/ttd/apps-test/instances/50015641/a72223a3-926b-4095-a2a6-bacc10815f2d',
            type: 'app.instance.created',
            resource: 'urn:altinn:resource:app_ttd_apps-test',
            resourceinstance: '50015641/a72223a3-926b-4095-a2a6-bacc10815f2d',
            subject: '/party/50015641',
            alternativesubject: '/person/16069412345',
            time: '2023-01-02T10:00:00Z',
          },
        },
      },
    },
    // Binary mode: the body is the event's data in whatever media type Content-Type names; the attributes
    // travel in the `ce-` headers below. No example: it needs those headers, which a body example cannot carry.
    '*/*': {
      schema: {
        description:
          'Binary mode: the data itself, in the media type Content-Type names (JSON, text or any bytes), with the ' +
          'attributes in `ce-` headers (ce-specversion, ce-id, ce-source, ce-type and ce-resource required).',
      },
    },
  },
  documentedHeaders: binaryModeHeaders(),
  documentedResponses: { 200: { description: 'Stored (or stored before): committed before this answer. Empty body.' } },
  problems: [413, 415, 429],
};

/**
 * Binary mode's attributes as headers (CloudEvents HTTP binding §3.1.3): optional in the document, since the
 * other modes send none, and required in binary mode, where Herald names any that is missing. Other extension
 * attributes come as further `ce-<name>` headers; values are percent-decoded once.
 */
function binaryModeHeaders() {
  const header = (description: string) => ({ type: 'string', description: `Binary mode: ${description}` });
  return {
    type: 'object',
    properties: {
      'ce-specversion': header("'1.0'. Required in binary mode."),
      'ce-id': header('the event id. Required in binary mode.'),
      'ce-source': header('the source, a URI-reference. Required in binary mode.'),
      'ce-type': header('the event type. Required in binary mode.'),
      'ce-resource': header("Altinn's resource URN. Required in binary mode."),
      'ce-subject': header('the subject.'),
      'ce-time': header('RFC 3339 time.'),
      'ce-dataschema': header('URI of the schema data follows.'),
      'ce-resourceinstance': header('the Altinn resource instance.'),
      'ce-alternativesubject': header('the Altinn alternative subject.'),
      'ce-partitionkey': header('the ordering key (docs/ordering.md).'),
      'ce-traceparent': header('the W3C trace context of the event.'),
    },
  };
}

/** Resources Herald publishes its own events under (docs/isolation.md). */
const reservedResourcePrefix = 'urn:herald:';

/**
 * With a policy in force, every event must be one the caller may publish: its resource, and its subjects when
 * the grant names them. The admin scope publishes to any resource, as in Altinn. A batch is refused whole.
 */
function authorizePublish(authorizer: Authorizer, caller: Principal, events: readonly ValidEvent[], batch: boolean): void {
  // Herald's own events (endpoint health) are Herald's alone: no token, admin or not, may forge one.
  const reserved = events.findIndex((event) => event.resource.startsWith(reservedResourcePrefix));
  if (reserved >= 0) {
    const which = batch ? `Event [${reserved}]: resources` : 'Resources';
    throw new HttpProblem('forbidden', `${which} under ${reservedResourcePrefix} are Herald's own; nobody may publish to them.`);
  }
  if (!authorizer.enforced || hasAnyScope(caller, [scopes.publishAdmin])) return;
  const refused = events.findIndex(
    (event) => !authorizer.allows({ consumer: caller.consumer, action: 'publish', resource: event.resource, event }),
  );
  if (refused < 0) return;
  const which = batch ? `Event [${refused}]: not` : 'Not';
  throw new HttpProblem('forbidden', `${which} authorized to publish events for resource ${events[refused]?.resource}.`);
}
