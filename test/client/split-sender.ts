import { type IncomingMessage, request as httpRequest } from 'node:http';
import { Webhook as StandardWebhook } from 'standardwebhooks';

/** Sends a signed delivery as Herald would, but writes the body in two pieces split at `splitAt`. */
export async function sendInTwoChunks(url: string, secret: string, body: Buffer, splitAt: number, signed = body): Promise<number> {
  const id = `msg_split_${Math.random().toString(36).slice(2)}`;
  const now = new Date();
  const signature = new StandardWebhook(secret).sign(id, now, signed.toString('utf8'));
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/cloudevents+json; charset=utf-8',
          'content-length': body.length,
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': signature,
        },
      },
      (response: IncomingMessage) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.write(body.subarray(0, splitAt));
    setTimeout(() => request.end(body.subarray(splitAt)), 30);
  });
}

