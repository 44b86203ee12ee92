import { Type } from 'typebox';
import { attemptErrorKinds, attemptLimits } from '../domain/attempt-record.js';
import { deadLetterPolicies, deliveryOrderings } from '../domain/delivery-ordering.js';
import { deliveryStatuses } from '../domain/delivery-status.js';
import { replayStatuses } from '../domain/replay.js';
import { defaultGraceSeconds, maxGraceSeconds } from '../domain/secret-rotation.js';
import { subscriptionStatuses } from '../domain/subscription-status.js';
import { subscriptionCountCap } from '../store/delivery-counts.js';
import { filterComponents, SubscriptionFilters } from './openapi-filter-components.js';
import { componentRefOf, oneOf, text } from './openapi-schema-helpers.js';
import { problemCatalog } from './problems.js';

/**
 * The shapes Herald's answers and documented bodies share, named once so the OpenAPI document (and the
 * clients generated from it) have one type for each. They document; the domain validates.
 */

/** An extension attribute's value: Herald keeps it verbatim with its JSON type. */
const extensionValue = { type: ['string', 'number', 'boolean'] };

/**
 * A CloudEvent as Herald stores and serves it (CloudEvents 1.0 plus Altinn's extensions). The extensions Herald
 * knows are named, so generated clients type them; any other is checked by `unevaluatedProperties`, which
 * client generators leave out of the type: a typed index signature would also constrain `data` (TypeScript
 * cannot say "every other key"), and `data: { orderId: 42 }` would not compile.
 */
const CloudEvent = Type.Unsafe<Record<string, unknown>>({
  type: 'object',
  required: ['specversion', 'id', 'source', 'type', 'resource'],
  properties: {
    specversion: { type: 'string', enum: ['1.0'] },
    id: { type: 'string', minLength: 1, description: 'Unique per source: publishing the same (source, id) again stores nothing new.' },
    source: { type: 'string', minLength: 1, description: 'URI-reference naming where the event happened.' },
    type: { type: 'string', minLength: 1 },
    resource: {
      type: 'string',
      description: "Altinn's resource URN the event concerns; authorization is per resource.",
      pattern: '^urn:[a-z0-9-]{1,30}(:[a-z0-9()+,.\\-;$_!\\/]{1,100}){1,10}$',
    },
    subject: { type: 'string', description: 'What the event is about, e.g. a party: /party/50015641.' },
    time: { type: 'string', format: 'date-time', description: 'RFC 3339.' },
    datacontenttype: { type: 'string', description: 'Media type of data.' },
    dataschema: { type: 'string', description: 'URI of the schema data follows.' },
    data: { description: 'Any JSON value (for JSON media types, or none), or text for text media types.' },
    data_base64: { type: 'string', description: 'Binary data, base64; never together with data.' },
    resourceinstance: { type: 'string', description: 'Altinn extension: the instance of the resource.' },
    alternativesubject: { type: 'string', description: 'Altinn extension: another subject, e.g. /person/16069412345.' },
    partitionkey: {
      type: 'string',
      description: 'Partitioning extension: the key of ordered delivery for subscriptions ordered by it (docs/ordering.md).',
    },
    traceparent: { type: 'string', description: 'Distributed tracing extension: the W3C trace context of the event.' },
    tracestate: { type: 'string', description: 'Distributed tracing extension: vendor trace state.' },
  },
  // Attribute names: lower-case a-z and 0-9 (CloudEvents 1.0), and data_base64.
  propertyNames: { pattern: '^([a-z0-9]+|data_base64)$' },
  unevaluatedProperties: {
    ...extensionValue,
    description: 'Any other extension attribute, kept verbatim as string, number or boolean.',
  },
  description:
    'Extension attributes besides those named here (names of lower-case a-z and 0-9) are kept verbatim as ' +
    'string, number or boolean.',
});

const codes = [...new Set(Object.values(problemCatalog).map((p) => p.code))];

/** RFC 9457 problem details, Herald's one error format (catalog: docs/problems.md). */
const Problem = Type.Object({
  type: Type.String({ examples: ['urn:herald:problem:invalidEvent'] }),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String({ description: "What went wrong; Altinn's wording where Altinn has one." }),
  code: oneOf(codes, 'Stable: match on this, not on detail.'),
  traceId: Type.String({ description: 'The request id, also in the logs.' }),
  errors: Type.Optional(
    Type.Record(Type.String(), Type.Array(Type.String()), { description: 'Messages by the field they concern.' }),
  ),
  location: Type.Optional(
    Type.Object(
      {
        offset: Type.Integer({ minimum: 0, description: 'Characters (code points) before the fault, from 0.' }),
        line: Type.Integer({ minimum: 1 }),
        column: Type.Integer({ minimum: 1, description: 'In characters, from 1.' }),
      },
      { description: '`filters:parse` only: where the expression stopped making sense.' },
    ),
  ),
});

/** Ordered delivery per key (docs/ordering.md); set at creation and never changed. */
const SubscriptionOrdering = {
  ordering: Type.Optional(
    oneOf(
      deliveryOrderings,
      "Push subscriptions: 'subject' or 'partitionkey' delivers the events sharing that attribute one at a time, in log " +
        "order, different keys in parallel; events without it are not ordered. Default 'none'. Fixed at creation.",
    ),
  ),
  onDeadLetter: Type.Optional(
    oneOf(
      deadLetterPolicies,
      "Ordered subscriptions: after a dead letter its key moves on ('skip', the default) or waits until the dead " +
        "letter is redriven ('block').",
    ),
  ),
};

/** What `POST /subscriptions` reads; field names match case-insensitively and unknown fields are ignored. */
const SubscriptionRequest = Type.Object({
  endPoint: Type.Optional(
    Type.String({ format: 'uri', description: 'https webhook to push to. Leave out for a pull subscription.' }),
  ),
  ...SubscriptionFilters,
  startFrom: text(
    'Start in the past: an RFC 3339 time, an event id, `~<position>` or `0` (the start of the log). A backfill ' +
      'replay sends the matching events from there; the answer names it in `backfill` (docs/replay.md).',
  ),
  ...SubscriptionOrdering,
});

const position = (description: string) => Type.String({ pattern: '^~\\d+$', description, examples: ['~1042'] });

/** A replay of a subscription's events (docs/replay.md). */
const Replay = Type.Object({
  id: Type.Integer(),
  subscriptionId: Type.Integer(),
  status: oneOf(
    replayStatuses,
    'waiting: a backfill waiting for its push subscription to be validated; running: being enqueued; completed; cancelled.',
  ),
  events: Type.Integer({ description: 'Events its range selected when the range was fixed.' }),
  enqueued: Type.Integer({ description: 'Deliveries (push) or queue entries (pull) written so far.' }),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'As asked.' })),
  after: text('As asked.'),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'As asked.' })),
  range: Type.Object(
    { after: position('The range starts after this position…'), through: position('…and ends at this one, inclusive.') },
    { description: 'Positions as a poll\'s `after` takes them. While waiting, `through` moves to the log\'s end when it starts.' },
  ),
  position: position('Enqueued through here.'),
  created: Type.String({ format: 'date-time' }),
  finished: Type.Optional(Type.String({ format: 'date-time' })),
});

/** What `POST /subscriptions/{id}/replay` reads: `from` or `after`, and optionally `until` and `dryRun`. */
const ReplayRequest = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Replay the events Herald stored at or after this time.' })),
    after: text('Replay the events after this one: an event id, `~<position>` (a poll\'s `next` link), or `0` for the start of the log.'),
    until: Type.Optional(
      Type.String({ format: 'date-time', description: 'Leave out events stored after this time. Default: the log as it stands now.' }),
    ),
    dryRun: Type.Optional(Type.Boolean({ description: 'Only count: answers 200 with the number of events a replay would send.' })),
  },
  { additionalProperties: false, description: 'Exactly one of `from` and `after`.' },
);

/** What `POST /subscriptions/{id}/secret/rotate` reads; no body at all is the default grace period. */
const SecretRotationRequest = Type.Object(
  {
    graceSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: maxGraceSeconds,
        default: defaultGraceSeconds,
        description: 'How long the replaced secret still signs beside the new one; 0 stops it at once.',
      }),
    ),
  },
  { additionalProperties: false },
);

/** The answer to a rotation: the new secret, shown this once, and until when the replaced one still signs. */
const SecretRotation = Type.Object({
  subscriptionId: Type.Integer(),
  secret: Type.String({ description: 'The new whsec_ signing secret. Shown only in this answer.' }),
  previousSecretExpires: Type.Optional(
    Type.String({
      format: 'date-time',
      description: 'Until then every delivery carries a second signature, by the replaced secret. Absent for a grace of 0.',
    }),
  ),
});

const Subscription = Type.Object({
  id: Type.Integer(),
  endPoint: Type.Optional(Type.String({ format: 'uri' })),
  ...SubscriptionFilters,
  ...SubscriptionOrdering,
  consumer: Type.String({
    description: 'From the token: /org/{org}, /user/{id}, /organisation/{orgno} or /sub/{sub}, the value percent-encoded.',
  }),
  createdBy: Type.String(),
  created: Type.String({ format: 'date-time' }),
  validated: Type.Boolean({ description: 'A push subscription receives events once its endpoint answered the handshake.' }),
  status: oneOf(subscriptionStatuses),
  lastError: text('Why the last handshake failed or the subscription was disabled.'),
  disabledBy: Type.Optional(
    oneOf(['operator', 'endpoint'], 'While disabled: by an operator (only an operator enables it again) or by its endpoint (410 Gone).'),
  ),
  health: Type.Optional(
    Type.Object(
      {
        status: oneOf(['healthy', 'failing', 'suspended'], 'The circuit breaker: suspended after failures in a row, until a probe gets a 2xx.'),
        since: Type.Optional(Type.String({ format: 'date-time', description: 'When the current health began.' })),
        lastError: text('The last failed attempt, while failing or suspended.'),
        failures: Type.Optional(Type.Integer({ description: 'Failures in a row, while failing or suspended.' })),
        nextProbeAt: Type.Optional(Type.String({ format: 'date-time', description: 'Suspended: when the next probe may go.' })),
      },
      { description: 'Push subscriptions: the endpoint\'s health (docs/isolation.md).' },
    ),
  ),
  nextValidationAt: Type.Optional(Type.String({ format: 'date-time' })),
  secret: text(
    'whsec_ signing secret for webhook-signature; shown only in the answer to creation (and a new one in the answer to a rotation).',
  ),
  previousSecretExpires: Type.Optional(
    Type.String({
      format: 'date-time',
      description: 'After a rotation with a grace period: when the replaced secret stops (or stopped) signing beside the new one.',
    }),
  ),
  backlog: Type.Optional(
    Type.Integer({
      minimum: 0,
      description:
        'In listings and reads: deliveries waiting to be sent (push) or queued and not yet acknowledged (pull), counted up to ' +
        `${subscriptionCountCap.toLocaleString('en')} (docs/subscriptions.md).`,
    }),
  ),
  deadLetters: Type.Optional(
    Type.Integer({ minimum: 0, description: `In listings and reads: dead deliveries (redrivable), counted up to ${subscriptionCountCap.toLocaleString('en')}.` }),
  ),
  countsCapped: Type.Optional(
    Type.Literal(true, { description: 'There when `backlog` or `deadLetters` stopped at the cap: there are at least that many.' }),
  ),
  backfill: Type.Optional(
    Type.Unsafe<Record<string, unknown>>({
      ...componentRefOf('Replay'),
      description: 'In the answer to a creation with `startFrom` only: the backfill replay (follow it at /replays/{id}).',
    }),
  ),
});

const Delivery = Type.Object({
  id: Type.Integer(),
  eventId: text("The event's id (left out when the subscriber may no longer read the event)."),
  status: oneOf(deliveryStatuses),
  attempts: Type.Integer(),
  lastStatusCode: Type.Optional(Type.Integer()),
  lastError: Type.Optional(Type.String()),
  lastErrorKind: Type.Optional(oneOf(attemptErrorKinds, 'Why the last attempt got no answer.')),
  nextAttemptAt: Type.Optional(Type.String({ format: 'date-time' })),
  deliveredAt: Type.Optional(Type.String({ format: 'date-time' })),
  deadAt: Type.Optional(Type.String({ format: 'date-time', description: 'When it became a dead letter (what redrive filters on).' })),
  created: Type.String({ format: 'date-time' }),
  replayId: Type.Optional(Type.Integer({ description: 'The replay that wrote this delivery; absent for one written at publishing.' })),
});

/** One webhook attempt as Herald keeps it (docs/delivery.md, "Attempts"): an answer, or why none came. */
const attemptFields = {
  started: Type.String({ format: 'date-time' }),
  durationMs: Type.Integer({ description: 'From the start of the request to the end of the kept answer (or the failure).' }),
  statusCode: Type.Optional(Type.Integer({ description: 'The endpoint answered with this status.' })),
  headers: Type.Optional(
    Type.Record(Type.String(), Type.String(), {
      description: `The answer's headers, names in lower case: at most ${attemptLimits.headers}, ${attemptLimits.headersBytes} bytes together.`,
    }),
  ),
  body: text(`The first ${attemptLimits.bodyBytes} bytes of the answer's body, as UTF-8 text; the rest is never read.`),
  bodyTruncated: Type.Optional(Type.Boolean({ description: 'The body went on past what was kept.' })),
  errorKind: Type.Optional(oneOf(attemptErrorKinds, 'No answer came: why.')),
  error: text('No answer came: what happened, for people.'),
};

const Attempt = Type.Object(
  {
    id: Type.Integer({ description: 'Increases with every attempt recorded; the cursor of the attempts list.' }),
    ...attemptFields,
  },
  {
    examples: [
      {
        id: 7,
        started: '2026-12-07T14:00:00.000Z',
        durationMs: 41,
        statusCode: 503,
        headers: { 'content-type': 'text/plain', 'retry-after': '30' },
        body: 'Service Unavailable',
        bodyTruncated: false,
      },
      { id: 8, started: '2026-12-07T14:00:10.000Z', durationMs: 10000, errorKind: 'timeout', error: 'No answer within 10000 ms.' },
    ],
  },
);

/** A ping's attempt: the same, but not kept, so without an id. */
const PingAttempt = Type.Object(attemptFields, { description: 'An attempt that is not kept (a ping), so it has no id.' });

/** One delivery with what its page shows besides the list's fields. */
const DeliveryDetail = Type.Intersect([
  Delivery,
  Type.Object({
    webhookId: Type.String({ description: 'The `webhook-id` every attempt of it carries, a resend too.' }),
    lastAttempt: Type.Optional(Type.Unsafe<Record<string, unknown>>({ ...componentRefOf('Attempt'), description: 'The latest attempt on record.' })),
  }),
]);

/** What `POST /subscriptions/{id}/deliveries/redrive` reads: no body (or `{}`) for every dead letter. */
const RedriveRequest = Type.Object(
  {
    diedFrom: Type.Optional(Type.String({ format: 'date-time', description: 'Only dead letters that died at or after this time.' })),
    diedUntil: Type.Optional(Type.String({ format: 'date-time', description: 'Only dead letters that died before this time.' })),
    statusCode: Type.Optional(Type.Integer({ minimum: 100, maximum: 599, description: 'Only those whose last attempt was answered with this status.' })),
    errorKind: Type.Optional(oneOf(attemptErrorKinds, 'Only those whose last attempt got no answer, for this reason.')),
  },
  { additionalProperties: false, description: 'Every field given must match (and). Unknown fields are refused.' },
);

/** The named schemas of the document's `components.schemas`. */
export const componentSchemas = {
  CloudEvent,
  Problem,
  SubscriptionRequest,
  Subscription,
  Delivery,
  DeliveryDetail,
  Attempt,
  PingAttempt,
  RedriveRequest,
  Replay,
  ReplayRequest,
  SecretRotationRequest,
  SecretRotation,
  ...filterComponents,
};

export type ComponentName = keyof typeof componentSchemas;

/** A reference to a named schema, e.g. `componentRef('CloudEvent')`. */
export function componentRef(name: ComponentName): { $ref: string } {
  return componentRefOf(name);
}
