import { apiBase, failed } from './api.js';
import { SseParser } from './sse-parser.js';
import { session } from './session.js';

export interface TailOptions {
  readonly query: URLSearchParams;
  readonly signal: AbortSignal;
  readonly onEvent: (data: string, id: string | undefined) => void;
  /** Told when the stream is open (again), and when it dropped and a reconnect waits. */
  readonly onState: (state: 'open' | 'reconnecting') => void;
}

const reconnectDelayMs = 1_000;
const transient = new Set([429, 502, 503, 504]);

/** The answer's Retry-After in milliseconds (seconds form), between 1 and 30 s. */
function retryAfterMs(response: Response): number {
  const seconds = Number(response.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 30) * 1_000 : reconnectDelayMs;
}

/**
 * Follows `GET /events/stream` until the signal aborts: reconnects after a drop with `Last-Event-ID`, so no
 * event is lost or repeated. A problem answer (bad filter, 401, 403, 429) ends it with an ApiError.
 */
export async function tailEvents(options: TailOptions): Promise<void> {
  const parser = new SseParser();
  let opened = false;
  while (!options.signal.aborted) {
    const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${session.token() ?? ''}` };
    if (parser.lastEventId !== undefined) headers['last-event-id'] = parser.lastEventId;
    let response: Response;
    try {
      response = await fetch(`${apiBase}/events/stream?${options.query}`, {
        headers,
        signal: options.signal,
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      // Herald unreachable for a moment (a restart): try again, from where the stream was.
      if (options.signal.aborted) return;
      options.onState('reconnecting');
      await pause(reconnectDelayMs, options.signal);
      continue;
    }
    // Herald restarting (503 while it shuts down, a proxy's 502/504), or this stream's old connection still
    // holding its slot (429 after a drop): wait as told and go on. Anything else is the person's to read.
    if (transient.has(response.status) && (opened || response.status !== 429)) {
      await response.body?.cancel();
      options.onState('reconnecting');
      await pause(retryAfterMs(response), options.signal);
      continue;
    }
    if (!response.ok || !response.body) throw await failed(response);
    opened = true;
    options.onState('open');
    try {
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const message of parser.push(value)) options.onEvent(message.data, message.id);
      }
    } catch {
      // The connection dropped mid-stream: reconnect below, after the last id seen.
      if (options.signal.aborted) return;
    }
    if (options.signal.aborted) return;
    options.onState('reconnecting');
    await pause(reconnectDelayMs, options.signal);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
