import type { IncomingHttpHeaders } from 'node:http';
import type { ValidEvent } from '../../domain/cloudevent.js';
import type { AttemptOutcome, AttemptResponse } from '../../domain/delivery-attempt.js';
import type { CommitTracer } from '../../store/group-commit.js';

/**
 * Tracing with OpenTelemetry (docs/observability.md#tracing), in Herald's words. Everything that traces asks
 * for a `Tracing` that may be absent: with tracing off there is none, the OpenTelemetry SDK is never loaded,
 * and what it costs is a check for `undefined` per publish, commit and attempt.
 */
export interface Tracing extends CommitTracer {
  /**
   * The span of one `POST /events`, started at `startTime` (epoch ms: when the request arrived). Its parent is
   * the request's `traceparent` header, else the `traceparent` attribute of a lone event; `events` is empty for
   * a request refused before it was read.
   */
  publishStarted(request: PublishStart): PublishSpan;
  /** The span of one webhook attempt, continuing the event's trace (its `traceparent` attribute). */
  attemptStarted(attempt: AttemptStart): AttemptSpan;
  /** Exports what is left, within `timeoutMs`; later spans are dropped. */
  shutdown(timeoutMs: number): Promise<void>;
}

export interface PublishStart {
  readonly headers: IncomingHttpHeaders;
  readonly startTime: number;
  readonly route: string;
  readonly mode?: 'structured' | 'binary' | 'batch' | undefined;
  readonly events: readonly ValidEvent[];
}

export interface PublishSpan {
  /**
   * The events as they are to be stored: those without a `traceparent` attribute get this span's (and its
   * `tracestate`, if any), so their deliveries continue this trace.
   */
  stamp(events: readonly ValidEvent[]): ValidEvent[];
  /** Ends the span with the answer's status. */
  ended(statusCode: number): void;
}

export interface AttemptStart {
  readonly deliveryId: number;
  readonly subscriptionId: number;
  /** Attempts made before this one. */
  readonly previousAttempts: number;
  readonly endpoint: string;
  /** The stored event, as it is sent. */
  readonly payload: string;
}

export interface AttemptSpan {
  /** `traceparent` (and `tracestate`) of this span, sent with the webhook request. */
  readonly headers: Readonly<Record<string, string>>;
  /** Ends the span with the endpoint's answer (or why there was none) and what Herald decided. */
  ended(response: AttemptResponse, outcome: AttemptOutcome): void;
}

/** Where spans go and what the process is called: set from the standard `OTEL_*` variables (config.ts). */
export interface TracingSettings {
  readonly serviceName: string;
  /**
   * The full OTLP/HTTP traces URL; unset, the exporter reads `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
   * `OTEL_EXPORTER_OTLP_ENDPOINT` (+ `/v1/traces`) itself, with the other `OTEL_EXPORTER_OTLP_*` variables.
   */
  readonly url?: string | undefined;
  /** Export each span as it ends instead of in batches (tests). */
  readonly exportEachSpan?: boolean | undefined;
}

/**
 * Tracing as configured, or `undefined` when it is not: the SDK is imported only here, and only then, so a
 * Herald that does not trace never loads it.
 */
export async function startTracing(settings: TracingSettings | undefined): Promise<Tracing | undefined> {
  if (!settings) return undefined;
  const { OpenTelemetryTracing } = await import('./open-telemetry-tracing.js');
  return new OpenTelemetryTracing(settings);
}
