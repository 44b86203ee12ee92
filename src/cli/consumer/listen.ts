import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nodeWebhookHandler, type WebhookSecret } from '@herald/client/receivers';
import { parseCommandArgs, usageError } from '../command-error.js';
import { stopSignal, writeLines } from './ndjson-output.js';

const options = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  path: { type: 'string' },
  secret: { type: 'string' },
  'secret-file': { type: 'string' },
} as const;

/**
 * `herald listen --port N`: a webhook receiver for trying a push subscription on a laptop. It verifies each
 * request's signature with the subscription's secret (401 otherwise), answers the validation handshake, and
 * prints every delivery as one line of JSON: `{"webhookId", "timestamp", "event"}`. Repeats (retries,
 * resends) are printed too, each time they arrive: this is a tool for seeing what Herald sends.
 */
export async function listenCommand(args: string[], env = process.env): Promise<void> {
  const { values, positionals } = parseCommandArgs('listen', args, options, true);
  if (positionals.length > 0) throw usageError(`listen: unexpected argument '${positionals[0]}'.`);
  if (values.port === undefined) throw usageError('listen: give --port N (0 picks a free one).');
  const port = Number(values.port);
  if (!/^\d{1,5}$/.test(values.port) || port > 65535) throw usageError(`listen: '${values.port}' is not a port number.`);
  const secret = secretSource(values.secret, values['secret-file'], env);
  const path = values.path ?? '/';
  if (!path.startsWith('/')) throw usageError(`listen: --path must start with /, not '${path}'.`);

  const receive = nodeWebhookHandler({
    secret,
    seen: false,
    onEvent: (event, delivery) => writeLines(process.stdout, [{ webhookId: delivery.id, timestamp: delivery.timestamp, event }]),
    onHandshake: (event) => void process.stderr.write(`herald listen: answered the validation handshake of ${event.source}\n`),
    onPing: (event) => void process.stderr.write(`herald listen: answered a ping (${event.id})\n`),
    onRefused: (reason) => void process.stderr.write(`herald listen: refused a request: ${reason.message}\n`),
  });
  const server = createServer((request, response) => {
    if (new URL(request.url ?? '/', 'http://receiver').pathname !== path) {
      response.writeHead(404).end();
      return;
    }
    receive(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' || error.code === 'EACCES' ? usageError(`listen: cannot listen on port ${values.port}: ${error.code}.`) : error),
    );
    server.listen(port, values.host ?? '127.0.0.1', resolve);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  process.stderr.write(`herald listen: receiving on http://${host}:${address.port}${path} (Ctrl-C to stop)\n`);

  const stop = stopSignal();
  await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
  stop.dispose();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * `--secret`, else `--secret-file`, else HERALD_WEBHOOK_SECRET. A secret file is read on every request: the
 * secret exists only once the subscription is created, so start `listen` first, write the secret to the file,
 * then ask Herald to validate again (`POST /subscriptions/{id}/validate`) or wait for its next handshake.
 */
function secretSource(secret: string | undefined, file: string | undefined, env: NodeJS.ProcessEnv): WebhookSecret | (() => Promise<WebhookSecret>) {
  if (secret !== undefined && file !== undefined) throw usageError('listen: give --secret or --secret-file, not both.');
  if (file !== undefined) {
    return async () => {
      const text = await readFile(file, 'utf8').catch(() => '');
      // No secret yet: no key to verify with, so every request is refused (401) until the file is written.
      return text.trim() === '' ? [] : text.trim();
    };
  }
  const value = secret ?? env.HERALD_WEBHOOK_SECRET;
  if (!value) throw usageError('listen: give --secret whsec_…, --secret-file <path> or HERALD_WEBHOOK_SECRET.');
  if (!value.startsWith('whsec_')) throw usageError("listen: the secret must be the subscription's whsec_… key.");
  return value;
}
