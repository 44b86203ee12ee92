import { Type } from 'typebox';
import { cesqlErrorKinds, cesqlLimits } from '../domain/cesql/index.js';
import { filterLimits } from '../domain/event-filter.js';
import { filterTestLimits } from '../domain/filter-test-request.js';
import { componentRefOf, oneOf, text } from './openapi-schema-helpers.js';

/**
 * The OpenAPI document's named schemas for filters: the Subscriptions API's filter expressions, and what
 * `POST /filters/evaluate` and `POST /filters/test` read and answer (docs/filters.md).
 */

/** What `POST /filters/evaluate` reads (docs/filters.md). */
const FilterEvaluationRequest = Type.Object({
  expression: Type.String({
    description: `A CESQL 1.0 expression, at most ${cesqlLimits.expressionBytes} bytes of UTF-8.`,
    examples: ["type LIKE 'no.altinn.events.%' AND EXISTS subject"],
  }),
  event: Type.Unsafe<Record<string, unknown>>({
    ...componentRefOf('CloudEvent'),
    description: 'A structured CloudEvent, valid as publishing requires (resource included).',
  }),
});

/** What evaluating an expression gave: always a result, and every error met (CESQL §3.3). */
const FilterEvaluation = Type.Object({
  result: Type.Union([Type.Boolean(), Type.Integer(), Type.String()], {
    description: "The expression's value; as a filter it matches only when this is true and errors is empty.",
  }),
  errors: Type.Array(
    Type.Object({
      kind: oneOf(cesqlErrorKinds.filter((kind) => kind !== 'parse'), 'The error kind, as the CESQL conformance cases name it.'),
      message: Type.String(),
    }),
  ),
});

/** The attribute names and values of `exact`, `prefix` and `suffix`: strings only, none empty. */
const FilterAttributes = Type.Unsafe<Record<string, string>>({
  type: 'object',
  minProperties: 1,
  propertyNames: { pattern: '^[a-z0-9]+$', not: { const: 'data' } },
  additionalProperties: { type: 'string', minLength: 1 },
  description: 'CloudEvents attribute names (context attributes or extensions) and the string each is compared with.',
  examples: [{ type: 'no.altinn.events.digitalt-dodsbo.opprettet' }],
});

const eventFilterRef = componentRefOf('EventFilter');
/** One dialect's object: exactly the one property. */
const dialect = (name: string, schema: object, description: string) => ({
  type: 'object',
  title: name,
  required: [name],
  properties: { [name]: schema },
  additionalProperties: false,
  description,
});

/**
 * One filter expression of the CloudEvents Subscriptions API (§3.2.4): an object with exactly one dialect. A
 * oneOf of the seven, recursive through `all`, `any` and `not`, so a generated client builds any filter typed.
 */
const EventFilter = Type.Unsafe<unknown>({
  oneOf: [
    dialect('exact', componentRefOf('FilterAttributes'), 'Every named attribute equals its value (case-sensitive).'),
    dialect('prefix', componentRefOf('FilterAttributes'), 'Every named attribute starts with its value.'),
    dialect('suffix', componentRefOf('FilterAttributes'), 'Every named attribute ends with its value.'),
    dialect('all', { type: 'array', minItems: 1, items: eventFilterRef }, 'Every nested filter holds.'),
    dialect('any', { type: 'array', minItems: 1, items: eventFilterRef }, 'At least one nested filter holds.'),
    dialect('not', eventFilterRef, 'The nested filter does not hold.'),
    dialect(
      'sql',
      { type: 'string', minLength: 1, maxLength: cesqlLimits.expressionBytes },
      'A CESQL 1.0 expression giving a Boolean; it holds when it is true with no evaluation error.',
    ),
  ],
  examples: [{ any: [{ prefix: { type: 'no.altinn.events.digitalt-dodsbo.' } }, { sql: "subject LIKE '/party/5001%'" }] }],
});

const EventFilters = Type.Unsafe<unknown[]>({
  type: 'array',
  items: eventFilterRef,
  maxItems: filterLimits.expressions,
  description:
    'Filter expressions (docs/filters.md): every one must hold, besides the Altinn filters. At most ' +
    `${filterLimits.expressions} expressions counting nested ones, ${filterLimits.nestingDepth} deep, ` +
    `${filterLimits.sqlExpressions} of them sql, ${filterLimits.bytes} bytes as JSON.`,
});

/** The filters a subscription request carries (Altinn's five, and `filters`). */
export const SubscriptionFilters = {
  sourceFilter: text("Absolute https URL; '%' matches any run of characters, without '%' the URL and every path below it."),
  resourceFilter: text('Resource URN (needed when an authorization policy is in force).'),
  subjectFilter: text('Exact subject.'),
  alternativeSubjectFilter: text('Exact alternative subject.'),
  typeFilter: text('Exact event type.'),
  filters: Type.Optional(EventFilters),
};

/** What `POST /filters/test` reads: a subscription request and how many of the newest events to try it on. */
const FilterTestRequest = Type.Object({
  ...SubscriptionFilters,
  endPoint: Type.Optional(Type.String({ format: 'uri', description: 'Checked as creation checks it; not called.' })),
  sample: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: filterTestLimits.maxSample,
      default: filterTestLimits.defaultSample,
      description: 'How many of the newest events of the log to try the filters on.',
    }),
  ),
});

/** What a filter test found. */
const FilterTest = Type.Object({
  sample: Type.Integer({ description: 'As asked: the filters were tried on the newest this many events (all of them, if the log holds fewer).' }),
  matched: Type.Integer({ description: 'How many of them the caller may read and the filters match.' }),
  events: Type.Array(Type.Unsafe<Record<string, unknown>>(componentRefOf('CloudEvent')), {
    description: `The first ${filterTestLimits.shown} of the matches, in log order.`,
  }),
});

/** The filter schemas among the document's named schemas, in the document's order. */
export const filterComponents = {
  FilterEvaluationRequest,
  FilterEvaluation,
  EventFilter,
  FilterAttributes,
  FilterTestRequest,
  FilterTest,
};
