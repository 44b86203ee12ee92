import { HeraldConnectionError, HeraldProblemError } from './problem.js';
import { defaultRetry, parseRetryAfter, type RetryPolicy, retryDelayMs, sleep } from './retry.js';

/** Where Herald's API lives under its base URL. */
export const apiBase = '/events/api/v1';

/** A token, or a function that gives the current one (called before every request, so it may refresh). */
export type TokenSource = string | (() => string | Promise<string>);

export interface HeraldClientOptions {
  /** Herald's address, e.g. `http://localhost:8080` (a trailing `/events/api/v1` is accepted too). */
  readonly baseUrl: string;
  /** A bearer token with the scopes the calls need (docs/authentication.md). */
  readonly token?: TokenSource;
  /** The `fetch` to use; the global one by default (Node 20+, browsers). */
  readonly fetch?: typeof fetch;
  /** How one-off calls retry 429, 503 and failed connections; loops (poll, pull) retry without end. */
  readonly retry?: Partial<RetryPolicy>;
  /** A request that has not answered in this time is abandoned and, where safe, tried again. Default 60 s. */
  readonly timeoutMs?: number;
  /** Told before every retry: for logging ("Herald unavailable, retrying in 2 s"). */
  readonly onRetry?: (info: RetryInfo) => void;
}

export interface RetryInfo {
  readonly method: string;
  readonly url: string;
  /** The try that failed, from 1. */
  readonly attempt: number;
  readonly delayMs: number;
  /** The status Herald answered, or the connection error. */
  readonly reason: number | Error;
}

export interface HeraldRequest {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** A path under the API base (`/subscriptions/12`) or a full URL (a `next` link). */
  readonly path: string;
  readonly query?: URLSearchParams | undefined;
  readonly body?: string | undefined;
  readonly contentType?: string | undefined;
  readonly headers?: Record<string, string> | undefined;
  /**
   * Whether sending it twice does no harm, so a connection that failed after sending may be retried.
   * 429 and 503 are retried either way: Herald did not act on the request.
   */
  readonly idempotent: boolean;
  readonly retry?: RetryPolicy | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly timeoutMs?: number | undefined;
}

/** Statuses where Herald did not act on the request and asks to be tried again. */
const retriedStatuses = new Set([429, 503]);
/** A proxy in front of Herald could not reach it (a restart, say); the request may have got through, so only a harmless repeat is sent. */
const gatewayStatuses = new Set([502, 504]);

/** Sends requests to Herald: authentication, timeouts, retries, and problem details turned into errors. */
export class Transport {
  readonly baseUrl: string;
  readonly retry: RetryPolicy;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: HeraldClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '').replace(/\/events\/api\/v1$/, '');
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.retry = { ...defaultRetry, ...options.retry };
  }

  url(path: string, query?: URLSearchParams): string {
    const url = /^https?:\/\//.test(path) ? path : `${this.baseUrl}${path.startsWith(apiBase) ? '' : apiBase}${path}`;
    const search = query?.toString();
    return search ? `${url}${url.includes('?') ? '&' : '?'}${search}` : url;
  }

  /** Sends a request and answers its 2xx response; throws `HeraldProblemError` or `HeraldConnectionError`. */
  async send(request: HeraldRequest): Promise<Response> {
    const url = this.url(request.path, request.query);
    const policy = request.retry ?? this.retry;
    for (let attempt = 1; ; attempt++) {
      if (request.signal?.aborted) throw request.signal.reason;
      let failure: { reason: number | Error; retryAfterMs?: number | undefined; error: Error };
      // Asked on every try, so a token that expired during an outage is replaced; its own failure is not retried.
      const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
      try {
        const response = await this.once(url, request, token);
        if (response.ok) return response;
        const error = await problemOf(response);
        const retried = retriedStatuses.has(response.status) || (request.idempotent && gatewayStatuses.has(response.status));
        if (!retried) throw error;
        failure = { reason: response.status, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')), error };
      } catch (error) {
        if (error instanceof HeraldProblemError) throw error;
        if (request.signal?.aborted) throw request.signal.reason;
        // A connection that failed: safe to send again only if a repeat does no harm.
        const cause = error instanceof Error ? error : new Error(String(error));
        if (!request.idempotent) {
          throw new HeraldConnectionError(`${request.method} ${url} failed: ${describe(cause)}. Not retried: sending it again could repeat its effect.`, { cause });
        }
        failure = { reason: cause, error: new HeraldConnectionError(`${request.method} ${url} failed: ${describe(cause)}`, { cause }) };
      }
      if (attempt >= policy.attempts) throw failure.error;
      const delayMs = retryDelayMs(policy, attempt, failure.retryAfterMs);
      this.options.onRetry?.({ method: request.method, url, attempt, delayMs, reason: failure.reason });
      await sleep(delayMs, request.signal);
    }
  }

  /** Sends and reads a JSON answer. */
  async json<T>(request: HeraldRequest): Promise<T> {
    const response = await this.send(request);
    return (await response.json()) as T;
  }

  private async once(url: string, request: HeraldRequest, token: string | undefined): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json', ...request.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    if (request.contentType) headers['content-type'] = request.contentType;
    // One signal for the caller's abort and this try's time limit.
    const controller = new AbortController();
    const abort = () => controller.abort(request.signal?.reason);
    request.signal?.addEventListener('abort', abort, { once: true });
    const timeoutMs = request.timeoutMs ?? this.options.timeoutMs ?? 60_000;
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    try {
      const response = await this.fetch(url, { method: request.method, headers, body: request.body, signal: controller.signal });
      // Read the body under the same time limit: a stalled answer counts as no answer.
      const body = await response.arrayBuffer();
      return new Response(response.status === 204 || response.status === 304 ? null : body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    } catch (error) {
      if (controller.signal.aborted && !request.signal?.aborted) throw controller.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', abort);
    }
  }
}

/** Reads a non-2xx answer as problem details (or makes one, if a proxy answered something else). */
async function problemOf(response: Response): Promise<HeraldProblemError> {
  const text = await response.text();
  let problem: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    problem = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { detail: text };
  } catch {
    problem = { title: response.statusText, status: response.status, detail: text.slice(0, 500) };
  }
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
  return new HeraldProblemError(problem, response.status, retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter / 1000 });
}

function describe(error: Error): string {
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
