import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { TestApp } from '../support/test-app.js';
import { sampleEvent } from '../support/test-app.js';
import { openEventStream, type SseMessage, SseReader } from '../support/sse.js';
import { eventsPath, expectProblem, type ProblemBody } from './harness.js';

export const streamPath = '/events/api/v1/events/stream';
export const streamResource = 'urn:altinn:resource:herald.stream';

/** Herald listening on loopback: streams are read over real HTTP, not `inject`. */
export async function listen(herald: TestApp): Promise<string> {
  return herald.app.listen({ port: 0, host: '127.0.0.1' });
}

/** Publishes events of `streamResource` with these ids (and any other attributes), in one batch. */
export async function publish(herald: TestApp, ...events: (string | Record<string, unknown>)[]): Promise<void> {
  const batch = events.map((e) => sampleEvent({ resource: streamResource, ...(typeof e === 'string' ? { id: e } : e) }));
  const response = await herald.app.inject({
    method: 'POST',
    url: eventsPath,
    headers: { ...herald.auth, 'content-type': 'application/cloudevents-batch+json' },
    payload: JSON.stringify(batch),
  });
  expect(response.statusCode, response.body).toBe(200);
}

/** Opens a stream that must start; `query` defaults to the test resource. */
export async function stream(
  base: string,
  auth: Record<string, string>,
  query: Record<string, string | string[]> = {},
  headers: Record<string, string> = {},
): Promise<SseReader> {
  const opened = await openEventStream(streamUrl(base, { resource: streamResource, ...query }), { ...auth, ...headers });
  if (!(opened instanceof SseReader)) throw new Error(`the stream did not open: ${opened.status} ${await opened.text()}`);
  expect(opened.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  return opened;
}

/** Opens a stream that must be refused, and checks the problem as `expectProblem` does. */
export async function refusedStream(
  base: string,
  auth: Record<string, string>,
  query: Record<string, string | string[]>,
  status: number,
  code: string,
  headers: Record<string, string> = {},
): Promise<{ problem: ProblemBody; headers: Headers }> {
  const opened = await openEventStream(streamUrl(base, query), { ...auth, ...headers });
  if (opened instanceof SseReader) {
    await opened.close();
    throw new Error(`the stream opened; expected ${status} ${code}`);
  }
  const body = await opened.text();
  const asInjected = {
    statusCode: opened.status,
    headers: Object.fromEntries(opened.headers),
    body,
    json: () => JSON.parse(body),
  } as unknown as LightMyRequestResponse;
  return { problem: expectProblem(asInjected, status, code), headers: opened.headers };
}

export function streamUrl(base: string, query: Record<string, string | string[]>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) for (const one of [value].flat()) search.append(name, one);
  return `${base}${streamPath}?${search}`;
}

/** The CloudEvent ids of stream messages. */
export function idsOf(messages: readonly SseMessage[]): string[] {
  return messages.map((m) => (JSON.parse(m.data) as { id: string }).id);
}
