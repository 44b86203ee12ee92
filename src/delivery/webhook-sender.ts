import { Agent, errors, request } from 'undici';
import type { AttemptResponse } from '../domain/delivery-attempt.js';

export interface WebhookSenderOptions {
  /** An attempt that has no complete answer within this time failed. */
  readonly timeoutMs: number;
  /** How much of a receiver's answer is read; the rest is discarded. */
  readonly maxResponseBytes?: number;
  /** Kept-alive connections per receiver origin. */
  readonly connectionsPerOrigin?: number;
}

/**
 * POSTs webhook requests over pooled keep-alive connections (undici). It never follows redirects and reads
 * at most a few KiB of any answer, so a hostile or broken receiver cannot make Herald wait or buffer without
 * bound. It never throws: every way an attempt can fail becomes an `AttemptResponse`.
 */
export class WebhookSender {
  private readonly agent: Agent;
  private readonly maxResponseBytes: number;

  constructor(private readonly options: WebhookSenderOptions) {
    this.maxResponseBytes = options.maxResponseBytes ?? 4096;
    this.agent = new Agent({
      connections: options.connectionsPerOrigin ?? 16,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: Math.min(options.timeoutMs, 10_000) },
    });
  }

  async send(url: string, headers: Record<string, string>, body: string): Promise<AttemptResponse> {
    try {
      const response = await request(url, {
        method: 'POST',
        headers,
        body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await this.discardAnswer(response.body);
      const retryAfter = response.headers['retry-after'];
      return {
        kind: 'answered',
        statusCode: response.statusCode,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      };
    } catch (error) {
      return { kind: 'failed', error: describeFailure(error, this.options.timeoutMs) };
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** Reads the answer up to the cap (so a small one frees the connection for reuse), then drops the rest. */
  private async discardAnswer(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<void> {
    let read = 0;
    try {
      for await (const chunk of body) {
        read += chunk.length;
        if (read > this.maxResponseBytes) break;
      }
    } catch {
      // The status line decides the outcome; an answer cut short does not change it.
    } finally {
      body.destroy();
    }
  }
}

function describeFailure(error: unknown, timeoutMs: number): string {
  const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
  const name = (error as Error).name;
  if (name === 'TimeoutError' || name === 'AbortError' || error instanceof errors.HeadersTimeoutError) {
    return `No answer within ${timeoutMs} ms.`;
  }
  if (error instanceof errors.ConnectTimeoutError) return 'Connecting to the endpoint timed out.';
  switch (code) {
    case 'ECONNREFUSED':
      return 'The endpoint refused the connection.';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return "The endpoint's host name could not be resolved.";
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'The connection was closed before an answer came.';
    case 'CERT_HAS_EXPIRED':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `The endpoint's TLS certificate is not trusted (${code}).`;
    default:
      return `The request failed: ${(error as Error).message || String(error)}`;
  }
}
