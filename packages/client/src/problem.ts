import type { Problem } from './types.js';

/**
 * Herald refused a request: the RFC 9457 problem details it answered with, as they came. Match on `code`
 * (`events:unknownCursor`), not on `title` or `detail`.
 */
export class HeraldProblemError extends Error {
  override readonly name: string = 'HeraldProblemError';
  /** The whole problem as Herald sent it, with any extension members (`errors`, `location`, …). */
  readonly problem: Readonly<Record<string, unknown>>;
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** Herald's stable code, e.g. `events:invalidEvent`; undefined when the answer was not Herald's problem. */
  readonly code: Problem['code'] | undefined;
  /** Field-level messages, e.g. `{"[3].time": ["…"]}`. */
  readonly errors: Readonly<Record<string, readonly string[]>> | undefined;
  /** The request id Herald logged it under. */
  readonly traceId: string | undefined;
  /** Seconds Herald asked to wait (`Retry-After`), on 429 and 503. */
  readonly retryAfterSeconds: number | undefined;

  constructor(problem: Record<string, unknown>, status: number, options: { message?: string; retryAfterSeconds?: number } = {}) {
    const text = (key: string) => (typeof problem[key] === 'string' ? (problem[key] as string) : undefined);
    const detail = text('detail') ?? '';
    const code = text('code');
    super(options.message ?? `Herald answered ${status}${code ? ` ${code}` : ''}: ${detail || text('title') || 'no detail'}`);
    this.problem = problem;
    this.type = text('type') ?? 'about:blank';
    this.title = text('title') ?? '';
    this.status = typeof problem.status === 'number' ? problem.status : status;
    this.detail = detail;
    this.code = code as Problem['code'] | undefined;
    this.errors = isErrors(problem.errors) ? problem.errors : undefined;
    this.traceId = text('traceId');
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Herald could not be reached (refused, reset, timed out) and the retries allowed ran out. */
export class HeraldConnectionError extends Error {
  override readonly name: string = 'HeraldConnectionError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
  }
}

function isErrors(value: unknown): value is Record<string, string[]> {
  return typeof value === 'object' && value !== null && Object.values(value).every(Array.isArray);
}
