import { parseCloudEvent } from './cloudevent.js';
import { type FieldError, type Parsed, accepted } from './validation.js';

/** `POST /filters/evaluate`'s body, checked: an expression to compile, and the event as Herald would store it. */
export interface FilterEvaluationRequest {
  readonly expression: string;
  /** The event's attributes, as its stored JSON holds them (null attributes dropped). */
  readonly event: Readonly<Record<string, unknown>>;
}

/**
 * Reads the body of a filter evaluation. The event must be one Herald would accept for publishing (the same
 * rules, `resource` included), so an expression is tried on the events a subscription can meet; each fault is
 * named under `event.`. The expression is only checked to be text here: compiling it is the caller's step.
 * @example parseFilterEvaluationRequest({ expression: 'EXISTS subject', event: { specversion: '1.0', … } })
 */
export function parseFilterEvaluationRequest(body: unknown): Parsed<FilterEvaluationRequest> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      ok: false,
      errors: [{ field: 'body', message: "The body must be a JSON object with 'expression' and 'event'." }],
    };
  }
  const { expression, event } = body as Record<string, unknown>;
  const errors: FieldError[] = [];
  if (expression === undefined || expression === null) {
    errors.push({ field: 'expression', message: "'expression' is required: a CESQL expression." });
  } else if (typeof expression !== 'string') {
    errors.push({ field: 'expression', message: "'expression' must be a string: a CESQL expression." });
  }
  let attributes: Record<string, unknown> | undefined;
  if (event === undefined || event === null) {
    errors.push({ field: 'event', message: "'event' is required: a CloudEvent in structured JSON form." });
  } else {
    const parsed = parseCloudEvent(event, 'event.');
    if (parsed.ok) attributes = JSON.parse(parsed.value.payload) as Record<string, unknown>;
    else errors.push(...parsed.errors);
  }
  if (errors.length > 0 || attributes === undefined) return { ok: false, errors };
  return accepted({ expression: expression as string, event: attributes });
}
