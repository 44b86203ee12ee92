import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got. */
export interface ReceivedRequest {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly json: Record<string, unknown>;
}

/** How the receiver answers a request: a status (and headers), or a hand-written response. */
export type ReceiverBehaviour = (
  request: ReceivedRequest,
  response: ServerResponse,
) => { status: number; headers?: Record<string, string>; body?: string } | 'handled';

/** A real HTTP webhook receiver on loopback, recording what it gets. */
export interface Receiver {
  readonly url: string;
  readonly received: ReceivedRequest[];
  /** Only the events, not the validation handshakes. */
  events(): ReceivedRequest[];
  behave(behaviour: ReceiverBehaviour): void;
  close(): Promise<void>;
}

export const accept: ReceiverBehaviour = () => ({ status: 200 });

export async function startReceiver(behaviour: ReceiverBehaviour = accept, path = '/hook'): Promise<Receiver> {
  let current = behaviour;
  const received: ReceivedRequest[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(body);
      } catch {
        // Not JSON: recorded as text only.
      }
      const entry = { headers: request.headers, body, json };
      received.push(entry);
      const answer = current(entry, response);
      if (answer === 'handled') return;
      response.writeHead(answer.status, answer.headers);
      response.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    events: () => received.filter((r) => r.json.type !== 'platform.events.validatesubscription'),
    behave(next) {
      current = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
