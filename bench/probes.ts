/** One request a probe sent: when it left and how long its answer took, in ms of `performance.now()`. */
export interface ProbeSample {
  readonly startedAt: number;
  readonly ms: number;
  readonly ok: boolean;
  /** Why it failed: the HTTP status, or the error's code. */
  readonly failure?: string;
}

/** Latency of a probe's requests: what a client arriving at a random moment waited. */
export interface ProbeSummary {
  readonly requests: number;
  readonly failed: number;
  /** Failures by reason (`503`, `UND_ERR_SOCKET`, …). */
  readonly failures: Record<string, number>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * Sends `send` every `intervalMs` without waiting for earlier requests to be answered (an open loop): a stalled
 * server keeps receiving requests as real clients would send them, and each request's wait is counted in full,
 * where a closed loop would send one request per stall and report one slow sample. `send` resolves to the
 * answer's HTTP status once its body is read. Stop it to get the samples; stopping waits for the requests still
 * unanswered.
 */
export function startProbe(send: () => Promise<number>, intervalMs: number): { stop(): Promise<ProbeSample[]> } {
  const samples: ProbeSample[] = [];
  const inFlight = new Set<Promise<void>>();
  const fire = () => {
    const startedAt = performance.now();
    const request = send()
      .then((status) => (status >= 200 && status < 300 ? undefined : String(status)))
      .catch((error: unknown) => failureOf(error))
      .then((failure) => {
        const ms = performance.now() - startedAt;
        samples.push(failure === undefined ? { startedAt, ms, ok: true } : { startedAt, ms, ok: false, failure });
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };
  fire();
  const timer = setInterval(fire, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      return samples.sort((a, b) => a.startedAt - b.startedAt);
    },
  };
}

/** The most specific code a failed request carries (undici's own, or the socket's error in `cause`). */
function failureOf(error: unknown): string {
  const failed = error as { code?: unknown; message?: unknown; cause?: { code?: unknown } } | undefined;
  return String(failed?.code ?? failed?.cause?.code ?? failed?.message ?? error);
}

/**
 * Percentiles of the samples; with `window`, of those in flight at some moment within it (sent before it ended,
 * answered after it began), so a request held through the whole window counts, however early it was sent.
 */
export function summariseProbe(samples: readonly ProbeSample[], window?: { from: number; to: number }): ProbeSummary {
  const within = window
    ? samples.filter((s) => s.startedAt <= window.to && s.startedAt + s.ms >= window.from)
    : samples;
  const ms = within.map((s) => s.ms).sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? Number.NaN;
  const failures: Record<string, number> = {};
  for (const { failure } of within) if (failure !== undefined) failures[failure] = (failures[failure] ?? 0) + 1;
  return {
    requests: ms.length,
    failed: within.filter((s) => !s.ok).length,
    failures,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: ms[ms.length - 1] ?? Number.NaN,
  };
}

/** `p50 3.1 / p99 12.0 / max 40.2 ms`, and the failures if any. */
export function describeProbe(summary: ProbeSummary): string {
  const ms = (value: number) => (value >= 1_000 ? `${(value / 1_000).toFixed(2)} s` : `${value.toFixed(1)} ms`);
  const reasons = Object.entries(summary.failures).map(([reason, n]) => `${n} ${reason}`).join(', ');
  const failed = summary.failed > 0 ? `, ${summary.failed} of ${summary.requests} failed (${reasons})` : '';
  return `p50 ${ms(summary.p50Ms)} / p99 ${ms(summary.p99Ms)} / max ${ms(summary.maxMs)}${failed}`;
}
