/**
 * The CloudEvents distributed-tracing extension (`traceparent`, `tracestate`) read from and added to a stored
 * event's JSON. Only tracing uses it (docs/observability.md#tracing): with tracing off nothing here runs.
 */

/** The extension's attributes as the event holds them: any JSON type, since an extension may hold any. */
export interface EventTraceAttributes {
  readonly traceparent: unknown;
  readonly tracestate: unknown;
}

/**
 * The event's tracing attributes, or `undefined` when it holds neither. An event without them (the usual case)
 * is answered without parsing; one that names them anywhere, in `data` too, is parsed to read the top level.
 * @example traceAttributesOf('{"id":"1","traceparent":"00-…-01"}') // { traceparent: '00-…-01', tracestate: undefined }
 */
export function traceAttributesOf(payload: string): EventTraceAttributes | undefined {
  if (!payload.includes('"tracestate"') && !payload.includes('"traceparent"')) return undefined;
  const event = JSON.parse(payload) as Record<string, unknown>;
  if (event.traceparent === undefined && event.tracestate === undefined) return undefined;
  return { traceparent: event.traceparent, tracestate: event.tracestate };
}

/**
 * The event with the tracing attributes added as its last ones, as a middleman may when the producer sent none
 * (the extension's own words). The payload is a JSON object of at least the required attributes, so the text
 * is extended in place rather than parsed and written again.
 * @example withTraceAttributes('{"id":"1"}', '00-…-01') // '{"id":"1","traceparent":"00-…-01"}'
 */
export function withTraceAttributes(payload: string, traceparent: string, tracestate?: string): string {
  if (!payload.endsWith('}')) return payload;
  const state = tracestate ? `,"tracestate":${JSON.stringify(tracestate)}` : '';
  return `${payload.slice(0, -1)},"traceparent":${JSON.stringify(traceparent)}${state}}`;
}
