import type { FieldError } from '../domain/validation.js';

/**
 * The catalog of problems Herald answers with (RFC 9457). Each has a stable `code` that clients may match on;
 * `docs/problems.md` lists them. Details carry Altinn's wording where Altinn has one.
 */
export const problemCatalog = {
  invalidEvent: {
    status: 400,
    code: 'events:invalidEvent',
    title: 'One or more validation errors occurred.',
  },
  invalidRequest: { status: 400, code: 'events:invalidRequest', title: 'The request is not valid.' },
  invalidQuery: {
    status: 400,
    code: 'events:invalidQuery',
    title: 'One or more query parameters are not valid.',
  },
  contentNotStorable: {
    status: 400,
    code: 'events:contentNotStorable',
    title: 'The store refused the content of the request.',
  },
  filterParse: {
    status: 400,
    code: 'filters:parse',
    title: 'The filter expression does not parse.',
  },
  invalidCheckpoint: { status: 400, code: 'events:invalidCheckpoint', title: 'The checkPoint is not valid.' },
  checkpointOutOfRange: {
    status: 400,
    code: 'events:checkpointOutOfRange',
    title: 'The checkPoint is out of range.',
  },
  unknownCursor: { status: 400, code: 'events:unknownCursor', title: "The 'after' cursor is not known." },
  cursorExpired: {
    status: 410,
    code: 'events:cursorExpired',
    title: "The 'after' cursor is older than the retention period.",
  },
  replayTooLarge: {
    status: 400,
    code: 'events:replayTooLarge',
    title: 'The replay covers too much of the log.',
  },
  unauthenticated: { status: 401, code: 'events:unauthenticated', title: 'Authentication is required.' },
  forbidden: { status: 403, code: 'events:forbidden', title: 'Not allowed.' },
  subscriptionLimit: { status: 403, code: 'events:subscriptionLimit', title: 'Too many subscriptions.' },
  notFound: { status: 404, code: 'events:notFound', title: 'Not found.' },
  methodNotAllowed: { status: 405, code: 'events:methodNotAllowed', title: 'Method not allowed.' },
  // Operators have the last word (docs/subscriptions.md).
  disabledByOperator: {
    status: 409,
    code: 'events:disabledByOperator',
    title: 'An operator disabled this subscription.',
  },
  subscriptionDisabled: {
    status: 409,
    code: 'events:subscriptionDisabled',
    title: 'The subscription is disabled.',
  },
  deliveryInFlight: {
    status: 409,
    code: 'events:deliveryInFlight',
    title: 'The delivery is being attempted right now.',
  },
  pushOnly: {
    status: 409,
    code: 'events:pushOnly',
    title: 'Only a push subscription can do this.',
  },
  replayLimit: {
    status: 409,
    code: 'events:replayLimit',
    title: 'Too many replays in progress.',
  },
  payloadTooLarge: { status: 413, code: 'events:payloadTooLarge', title: 'The request is too large.' },
  tooManyRequests: { status: 429, code: 'events:tooManyRequests', title: 'Too many requests.' },
  unsupportedMediaType: {
    status: 415,
    code: 'events:unsupportedMediaType',
    title: 'Unsupported media type.',
  },
  internalError: { status: 500, code: 'events:internalError', title: 'Internal error.' },
  keysUnavailable: { status: 503, code: 'events:keysUnavailable', title: 'Tokens cannot be verified right now.' },
  storeUnavailable: {
    status: 503,
    code: 'events:storeUnavailable',
    title: 'The event store is unavailable.',
  },
} as const;

export type ProblemKind = keyof typeof problemCatalog;

/** The one error type routes throw; the error handler turns it into problem details. */
export class HttpProblem extends Error {
  readonly status: number;
  constructor(
    readonly kind: ProblemKind,
    readonly detail: string,
    readonly extras: {
      readonly errors?: readonly FieldError[];
      readonly headers?: Record<string, string>;
      /** Further members of the problem (RFC 9457 §3.2), such as where an expression failed to parse. */
      readonly members?: Readonly<Record<string, unknown>>;
    } = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
    this.status = problemCatalog[kind].status;
  }
}

/** The problem-details body; `errors` groups messages by the field they concern. */
export function problemBody(
  kind: ProblemKind,
  detail: string,
  traceId: string,
  errors?: readonly FieldError[],
  members?: Readonly<Record<string, unknown>>,
) {
  const { status, code, title } = problemCatalog[kind];
  const body: Record<string, unknown> = {
    ...members,
    // `events:` problems keep their short types; other families keep theirs (`urn:herald:problem:filters:parse`).
    type: `urn:herald:problem:${code.startsWith('events:') ? code.slice('events:'.length) : code}`,
    title,
    status,
    detail,
    code,
    traceId,
  };
  if (errors && errors.length > 0) {
    // Field names come from the request (attribute names such as `constructor` or `__proto__`), so they
    // must not reach Object.prototype.
    const grouped: Record<string, string[]> = Object.create(null);
    for (const { field, message } of errors) {
      const messages = grouped[field] ?? [];
      messages.push(message);
      grouped[field] = messages;
    }
    body.errors = grouped;
  }
  return body;
}

/** Refuses a request for invalid input, naming each field at fault; the first message becomes the detail. */
export function invalid(
  kind: 'invalidEvent' | 'invalidQuery' | 'invalidRequest',
  errors: readonly FieldError[],
) {
  return new HttpProblem(kind, errors[0]?.message ?? problemCatalog[kind].title, { errors });
}
