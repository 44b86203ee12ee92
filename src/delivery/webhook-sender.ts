import { type LookupAddress, type LookupOptions, lookup } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, errors, request } from 'undici';
import type { AttemptResponse } from '../domain/delivery-attempt.js';
import { isNonPublicAddress } from '../domain/endpoint.js';
import { Deadlines } from './deadlines.js';
import { nonPublicEndpointReason } from './endpoint-guard.js';

export interface WebhookSenderOptions {
  /** An attempt that has no complete answer within this time failed. */
  readonly timeoutMs: number;
  /** How much of a receiver's answer is read; the rest is discarded. */
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
    this.maxResponseBytes = options.maxResponseBytes ?? 4096;
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
        return { kind: 'failed', error: nonPublicEndpointReason };
      }
    }
    // The whole attempt, from connecting to the end of the answer, is bounded by the time limit.
    const deadline = this.deadlines.start();
    try {
      const response = await request(url, { method: 'POST', headers, body, dispatcher: this.agent, signal: deadline.signal });
      await this.discardAnswer(response.body);
      const retryAfter = response.headers['retry-after'];
      return {
        kind: 'answered',
        statusCode: response.statusCode,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      };
    } catch (error) {
      return { kind: 'failed', error: describeFailure(error, this.options.timeoutMs) };
    } finally {
      deadline.done();
    }
  }

  async close(): Promise<void> {
    // Attempts still running keep their deadlines: the queue's timer is unreferenced and stops once it is empty.
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

function describeFailure(error: unknown, timeoutMs: number): string {
  const blocked = [error, (error as { cause?: unknown }).cause].find((e) => e instanceof NonPublicAddressError);
  if (blocked) return (blocked as Error).message;
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
