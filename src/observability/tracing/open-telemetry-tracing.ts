import {
  type Attributes,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { parseTraceParent, TraceState, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ValidEvent } from '../../domain/cloudevent.js';
import type { AttemptOutcome, AttemptResponse } from '../../domain/delivery-attempt.js';
import { type EventTraceAttributes, traceAttributesOf, withTraceAttributes } from '../../domain/event-trace-context.js';
import type { AttemptSpan, AttemptStart, PublishSpan, PublishStart, Tracing, TracingSettings } from './tracing.js';

/** Loaded only when tracing is configured (see startTracing): the one module that imports the SDK. */

const propagator = new W3CTraceContextPropagator();
/** What Herald calls itself in `messaging.system`: it is the broker. */
const messagingSystem = 'herald';
const databaseSystem = { sqlite: 'sqlite', postgres: 'postgresql' } as const;

/** Spans through the OpenTelemetry SDK, exported over OTLP/HTTP (JSON). No global provider is registered. */
export class OpenTelemetryTracing implements Tracing {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;

  constructor(settings: TracingSettings) {
    const exporter = new OTLPTraceExporter(settings.url ? { url: settings.url } : {});
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': settings.serviceName }),
      // The sampler is read from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG by the provider itself.
      spanProcessors: [settings.exportEachSpan ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
    });
    this.tracer = this.provider.getTracer('herald');
  }

  publishStarted(request: PublishStart): PublishSpan {
    const fromHeader = propagator.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter);
    const eventContexts = request.events.map((event) => contextOfAttributes(traceAttributesOf(event.payload)));
    const lone = request.events.length === 1 ? eventContexts[0] : undefined;
    // The HTTP hop's own context first, as for any HTTP server; else the event's, so that a producer tracing
    // only through the CloudEvents extension still gets one trace.
    const parent = trace.getSpanContext(fromHeader) ? fromHeader : lone ? trace.setSpanContext(ROOT_CONTEXT, lone) : ROOT_CONTEXT;
    const parentSpanId = trace.getSpanContext(parent)?.spanId;
    const links: Link[] = [];
    for (const context of eventContexts) {
      if (context && context.spanId !== parentSpanId) links.push({ context });
    }
    const attributes: Attributes = {
      'http.request.method': 'POST',
      'http.route': request.route,
      'url.scheme': 'http',
      'messaging.system': messagingSystem,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'publish',
    };
    if (request.mode) attributes['herald.publish.mode'] = request.mode;
    if (request.mode === 'batch') attributes['messaging.batch.message_count'] = request.events.length;
    const [event] = request.events;
    if (event && request.events.length === 1) addEventAttributes(attributes, event.id, event.source, event.type);
    const span = this.tracer.startSpan(
      `POST ${request.route}`,
      { kind: SpanKind.SERVER, startTime: request.startTime, attributes, links },
      parent,
    );
    return new TracedPublish(span);
  }

  commitStarted(traces: readonly unknown[], events: number, engine: 'sqlite' | 'postgres'): (error?: unknown) => void {
    const links: Link[] = [];
    for (const traced of traces) if (traced instanceof TracedPublish) links.push({ context: traced.span.spanContext() });
    // A root of its own: one write makes many publishes durable, so it belongs to none of their traces alone.
    const span = this.tracer.startSpan(
      'commit',
      {
        kind: SpanKind.INTERNAL,
        root: true,
        links,
        attributes: {
          'db.system.name': databaseSystem[engine],
          'db.operation.name': 'commit',
          'herald.commit.events': events,
          'herald.commit.requests': traces.length,
        },
      },
      ROOT_CONTEXT,
    );
    return (error) => {
      if (error !== undefined) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute('error.type', errorType(error));
      }
      span.end();
    };
  }

  attemptStarted(attempt: AttemptStart): AttemptSpan {
    const event = readEvent(attempt.payload);
    const fromEvent = contextOfAttributes(event);
    const parent = fromEvent ? trace.setSpanContext(ROOT_CONTEXT, fromEvent) : ROOT_CONTEXT;
    const attributes: Attributes = {
      'http.request.method': 'POST',
      'messaging.system': messagingSystem,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'deliver',
      'messaging.destination.name': `subscriptions/${attempt.subscriptionId}`,
      // The `webhook-id` header: the receiver's logs and Herald's trace meet on it.
      'messaging.message.id': `msg_${attempt.deliveryId}`,
      'herald.subscription.id': attempt.subscriptionId,
      'herald.delivery.id': attempt.deliveryId,
      ...endpointAttributes(attempt.endpoint),
    };
    if (attempt.previousAttempts > 0) attributes['http.request.resend_count'] = attempt.previousAttempts;
    if (event) addEventAttributes(attributes, event.id, event.source, event.type);
    const span = this.tracer.startSpan('deliver', { kind: SpanKind.CLIENT, attributes }, parent);
    const headers: Record<string, string> = {};
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, defaultTextMapSetter);
    return {
      headers,
      ended(response: AttemptResponse, outcome: AttemptOutcome) {
        if (response.kind === 'answered') span.setAttribute('http.response.status_code', response.statusCode);
        span.setAttribute('herald.delivery.outcome', outcome.kind);
        if (outcome.kind !== 'delivered') {
          span.setStatus({ code: SpanStatusCode.ERROR });
          span.setAttribute(
            'error.type',
            response.kind === 'answered' ? String(response.statusCode) : (response.errorKind ?? 'other'),
          );
        }
        span.end();
      },
    };
  }

  async shutdown(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    });
    try {
      await Promise.race([this.provider.shutdown().catch(() => {}), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A publish request's span; the commit spans link to it. */
class TracedPublish implements PublishSpan {
  constructor(readonly span: Span) {}

  stamp(events: readonly ValidEvent[]): ValidEvent[] {
    const context = this.span.spanContext();
    const traceparent = formatTraceParent(context);
    const tracestate = context.traceState?.serialize() || undefined;
    return events.map((event) => {
      const own = traceAttributesOf(event.payload);
      if (own?.traceparent !== undefined) return event;
      // A producer's `tracestate` without a `traceparent` is left as it is: it is theirs, and ours would not match.
      const state = own?.tracestate === undefined ? tracestate : undefined;
      return { ...event, payload: withTraceAttributes(event.payload, traceparent, state) };
    });
  }

  ended(statusCode: number): void {
    this.span.setAttribute('http.response.status_code', statusCode);
    if (statusCode >= 500) {
      this.span.setStatus({ code: SpanStatusCode.ERROR });
      this.span.setAttribute('error.type', String(statusCode));
    }
    this.span.end();
  }
}

/** The span context an event's `traceparent` (and `tracestate`) names; none when absent or malformed. */
function contextOfAttributes(attributes: Partial<EventTraceAttributes> | undefined): SpanContext | undefined {
  if (typeof attributes?.traceparent !== 'string') return undefined;
  const context = parseTraceParent(attributes.traceparent.trim());
  if (!context || !isSpanContextValid(context)) return undefined;
  const traceState = typeof attributes.tracestate === 'string' && attributes.tracestate ? new TraceState(attributes.tracestate) : undefined;
  return { ...context, isRemote: true, ...(traceState ? { traceState } : {}) };
}

function formatTraceParent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-0${(context.traceFlags & 1).toString(16)}`;
}

/** The stored event's attributes a delivery span names; `undefined` for a payload that is not an object. */
function readEvent(payload: string): (Partial<EventTraceAttributes> & { id?: unknown; source?: unknown; type?: unknown }) | undefined {
  try {
    const event: unknown = JSON.parse(payload);
    return typeof event === 'object' && event !== null ? (event as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Adds the CloudEvents semantic conventions (`cloudevents.*`), and the event's id as `messaging.message.id` where
 * the span has none yet; the subject is left out, as it may name a person.
 */
function addEventAttributes(attributes: Attributes, id: unknown, source: unknown, type: unknown): void {
  attributes['cloudevents.event_spec_version'] = '1.0';
  if (typeof id === 'string') {
    attributes['cloudevents.event_id'] = id;
    attributes['messaging.message.id'] ??= id;
  }
  if (typeof source === 'string') attributes['cloudevents.event_source'] = source;
  if (typeof type === 'string') attributes['cloudevents.event_type'] = type;
}

/**
 * Where the webhook goes, without its path or query: endpoints often hold a secret there (a token in the
 * path), and spans leave Herald for whatever backend collects them.
 */
function endpointAttributes(endpoint: string): Attributes {
  try {
    const url = new URL(endpoint);
    const scheme = url.protocol.slice(0, -1);
    return {
      'url.scheme': scheme,
      'server.address': url.hostname.replace(/^\[|\]$/g, ''),
      'server.port': url.port ? Number(url.port) : scheme === 'https' ? 443 : 80,
    };
  } catch {
    return {};
  }
}

function errorType(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : ((error as Error).name ?? 'Error');
}
