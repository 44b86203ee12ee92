import type { IncomingMessage } from 'node:http';

/** The request body is larger than the receiver reads. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

/**
 * Reads a request's body as the bytes that came, joined once at the end. Never decode chunk by chunk
 * (`body += chunk`): a character whose bytes are split between two chunks turns into U+FFFD, and the
 * signature no longer matches.
 */
export async function readRawBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    if (size > maxBytes) throw new BodyTooLargeError(`The body is over ${maxBytes} bytes.`);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}
