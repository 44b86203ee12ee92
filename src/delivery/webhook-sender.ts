import { type LookupAddress, type LookupOptions, lookup } from 'node:dns';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Agent, errors, request } from 'undici';
import { type AttemptErrorKind, attemptLimits, keptBody, keptHeaders } from '../domain/attempt-record.js';
import type { AttemptResponse } from '../domain/delivery-attempt.js';
import { isNonPublicAddress } from '../domain/endpoint.js';
import { Deadlines } from './deadlines.js';
import { nonPublicEndpointReason } from './endpoint-guard.js';

export interface WebhookSenderOptions {
  /** An attempt that has no complete answer within this time failed. */
  readonly timeoutMs: number;
  /** How much of a receiver's answer is read and kept; the rest is never received (the stream is destroyed). */
  readonly maxResponseBytes?: number;
  /** Kept-alive connections per receiver origin. */
  readonly connectionsPerOrigin?: number;
  /** Allow private, loopback and link-local addresses (development and tests). */
  readonly allowPrivateAddresses?: boolean;
  /** How host names are resolved when connecting; `dns.lookup` unless a test gives its own. */
  readonly lookup?: typeof lookup;
}

/** Raised when an endpoint's host resolves to an address webhooks may not reach. */
class NonPublicAddressError extends Error {
  readonly code = 'HERALD_NON_PUBLIC_ADDRESS';
}

/**
 * POSTs webhook requests over pooled keep-alive connections (undici). It never follows redirects and reads
 * at most a few KiB of any answer, so a hostile or broken receiver cannot make Herald wait or buffer without
 * bound. It never throws: every way an attempt can fail becomes an `AttemptResponse`.
 */
export class WebhookSender {
  private readonly agent: Agent;
  private readonly maxResponseBytes: number;
  private readonly deadlines: Deadlines;

  constructor(private readonly options: WebhookSenderOptions) {
    this.maxResponseBytes = options.maxResponseBytes ?? attemptLimits.bodyBytes;
    this.deadlines = new Deadlines(options.timeoutMs);
    this.agent = new Agent({
      // As many as the dispatcher may have in flight: a hanging endpoint must not hold every socket to an
      // origin that other subscriptions' endpoints share.
      connections: options.connectionsPerOrigin ?? 128,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: {
        timeout: Math.min(options.timeoutMs, 10_000),
        // Checked when connecting, not only when subscribing: a host name may resolve elsewhere by then
        // (DNS rebinding), and the address actually dialled is the one that counts.
        ...(options.allowPrivateAddresses ? {} : { lookup: publicOnlyLookup(options.lookup ?? lookup) }),
      },
    });
  }

  async send(url: string, headers: Record<string, string>, body: string): Promise<AttemptResponse> {
    if (!this.options.allowPrivateAddresses) {
      // An IP literal is dialled without a lookup, so it is checked here.
      const host = hostOf(url);
      if (host !== undefined && isIP(host) && isNonPublicAddress(host)) {
        return { kind: 'failed', error: nonPublicEndpointReason, errorKind: 'blocked', durationMs: 0 };
      }
    }
    // The whole attempt, from connecting to the end of the answer, is bounded by the time limit.
    const deadline = this.deadlines.start();
    const started = performance.now();
    try {
      const response = await request(url, { method: 'POST', headers, body, dispatcher: this.agent, signal: deadline.signal });
      const answer = await this.readAnswer(response.body);
      const retryAfter = response.headers['retry-after'];
      return {
        kind: 'answered',
        statusCode: response.statusCode,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        durationMs: performance.now() - started,
        headers: keptHeaders(response.headers),
        body: keptBody(answer.bytes),
        bodyTruncated: answer.truncated,
      };
    } catch (error) {
      return { kind: 'failed', ...describeFailure(error, this.options.timeoutMs), durationMs: performance.now() - started };
    } finally {
      deadline.done();
    }
  }

  async close(): Promise<void> {
    // Attempts still running keep their deadlines: the queue's timer is unreferenced and stops once it is empty.
    await this.agent.close();
  }

  /**
   * Reads the answer up to the cap (so a small one frees the connection for reuse) and keeps that much; a longer
   * one is cut off there: the stream is destroyed, so the rest is never received or buffered.
   */
  private async readAnswer(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<{ bytes: Buffer; truncated: boolean }> {
    const chunks: Buffer[] = [];
    let read = 0;
    let truncated = false;
    try {
      for await (const chunk of body) {
        const room = this.maxResponseBytes - read;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room));
          read += room;
          truncated = true;
          break;
        }
        chunks.push(chunk);
        read += chunk.length;
      }
    } catch {
      // The status line decides the outcome; an answer cut short does not change it.
    } finally {
      body.destroy();
    }
    return { bytes: Buffer.concat(chunks, read), truncated };
  }
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}

/**
 * `dns.lookup` that refuses a host when any of its addresses is not public. The error names no address: it
 * becomes the attempt's recorded error, which the subscription's owner reads (see endpoint-guard.ts).
 */
function publicOnlyLookup(resolve: typeof lookup) {
  return (
    hostname: string,
    options: LookupOptions,
    callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      if (addresses.some((a) => isNonPublicAddress(a.address))) {
        return callback(new NonPublicAddressError(nonPublicEndpointReason), []);
      }
      if (options.all) return callback(null, addresses);
      const [first] = addresses;
      if (!first) return callback(Object.assign(new Error(`No address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}

/** Why an attempt got no answer: its kind (docs/delivery.md, "Attempts") and a message for people. */
function describeFailure(error: unknown, timeoutMs: number): { errorKind: AttemptErrorKind; error: string } {
  const blocked = [error, (error as { cause?: unknown }).cause].find((e) => e instanceof NonPublicAddressError);
  if (blocked) return { errorKind: 'blocked', error: (blocked as Error).message };
  const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
  const name = (error as Error).name;
  if (name === 'TimeoutError' || name === 'AbortError' || error instanceof errors.HeadersTimeoutError) {
    return { errorKind: 'timeout', error: `No answer within ${timeoutMs} ms.` };
  }
  if (error instanceof errors.ConnectTimeoutError) return { errorKind: 'timeout', error: 'Connecting to the endpoint timed out.' };
  switch (code) {
    case 'ECONNREFUSED':
      return { errorKind: 'refused', error: 'The endpoint refused the connection.' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { errorKind: 'dns', error: "The endpoint's host name could not be resolved." };
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return { errorKind: 'reset', error: 'The connection was closed before an answer came.' };
    default:
      if (code !== undefined && tlsErrorCodes.test(code)) {
        return { errorKind: 'tls', error: `The endpoint's TLS certificate is not trusted (${code}).` };
      }
      return { errorKind: 'other', error: `The request failed: ${(error as Error).message || String(error)}` };
  }
}

/** Node's codes for a TLS handshake that failed: an untrusted, expired or mismatched certificate, and the like. */
const tlsErrorCodes = /^(CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_|ERR_TLS_|ERR_SSL_|EPROTO$)/;
