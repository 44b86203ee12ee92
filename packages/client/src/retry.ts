/** How a request is tried again after a 429, a 503 or (where that is safe) a failed connection. */
export interface RetryPolicy {
  /** Tries in all, the first included; `Infinity` for loops that must outlast an outage. */
  readonly attempts: number;
  /** The first wait when Herald names none; doubled on each further try. */
  readonly minDelayMs: number;
  /** The longest wait between tries that Herald did not ask for. */
  readonly maxDelayMs: number;
  /** The longest `Retry-After` honoured; a longer one is cut to this. */
  readonly maxRetryAfterMs: number;
}

export const defaultRetry: RetryPolicy = { attempts: 8, minDelayMs: 250, maxDelayMs: 30_000, maxRetryAfterMs: 300_000 };

/** What a loop (poll, pull) uses: it keeps trying until it is stopped. */
export const foreverRetry: RetryPolicy = { ...defaultRetry, attempts: Number.POSITIVE_INFINITY, maxDelayMs: 15_000 };

/**
 * The wait before try `attempt + 1`: what Herald asked (`Retry-After`), else an exponential backoff with
 * jitter, so that clients that failed together do not come back together.
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number, retryAfterMs: number | undefined, random = Math.random): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxRetryAfterMs);
  const backoff = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(backoff * (0.8 + 0.4 * random()));
}

/** `Retry-After` in milliseconds: seconds, or an HTTP date. Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => {
      signal?.removeEventListener('abort', stop);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}
