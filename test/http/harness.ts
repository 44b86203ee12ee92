import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { sampleEvent } from '../support/test-app.js';

export const eventsPath = '/events/api/v1/events';

/** The RFC 9457 body every Herald error carries. */
export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly traceId: string;
  readonly errors?: Record<string, string[]>;
}

/**
 * `app.inject()` that remembers every 5xx answer, so a suite can prove that no input it sent produced one
 * (check `takeServerErrors()` in an `afterEach`).
 */
export function recordingInject(app: FastifyInstance) {
  let serverErrors: string[] = [];
  return {
    async inject(options: InjectOptions): Promise<LightMyRequestResponse> {
      const response = await app.inject(options);
      if (response.statusCode >= 500) {
        serverErrors.push(
          `${options.method ?? 'GET'} ${String(options.url).slice(0, 120)} -> ${response.statusCode} ${response.body.slice(0, 200)}`,
        );
      }
      return response;
    },
    /** The 5xx answers since the last call. */
    takeServerErrors(): string[] {
      const taken = serverErrors;
      serverErrors = [];
      return taken;
    },
  };
}

/**
 * Asserts a problem-details answer with every member Herald promises, and returns its body.
 * @example expectProblem(response, 400, 'events:invalidEvent')
 */
export function expectProblem(response: LightMyRequestResponse, status: number, code: string): ProblemBody {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json() as ProblemBody;
  expect(body).toMatchObject({ status, code });
  expect(body.type).toMatch(/^urn:herald:problem:/);
  expect(body.title).toEqual(expect.any(String));
  expect(body.detail).toEqual(expect.any(String));
  expect(body.detail.length).toBeGreaterThan(0);
  expect(body.traceId).toEqual(expect.any(String));
  expect(body.traceId.length).toBeGreaterThan(0);
  return body;
}

/**
 * Asserts a 400 naming `field` in `errors`; `message` (when given) must be one of that field's messages.
 * @returns the problem body.
 */
export function expectFieldError(
  response: LightMyRequestResponse,
  code: 'events:invalidEvent' | 'events:invalidQuery' | 'events:invalidRequest',
  field: string,
  message?: string | RegExp,
): ProblemBody {
  const body = expectProblem(response, 400, code);
  expect(Object.keys(body.errors ?? {}), JSON.stringify(body.errors)).toContain(field);
  const messages = body.errors?.[field] ?? [];
  expect(messages.length).toBeGreaterThan(0);
  if (message !== undefined) {
    expect(messages).toContainEqual(typeof message === 'string' ? message : expect.stringMatching(message));
  }
  return body;
}

/**
 * Proves the app still serves after whatever came before: a fresh event is acknowledged, then read back.
 */
export async function expectStillServing(app: FastifyInstance, auth: { authorization: string }) {
  const source = `https://still-serving.test/${crypto.randomUUID()}`;
  const event = sampleEvent({ source });
  const published = await app.inject({
    method: 'POST',
    url: eventsPath,
    headers: { ...auth, 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify(event),
  });
  expect(published.statusCode, published.body).toBe(200);
  const polled = await app.inject({
    method: 'GET',
    url: `${eventsPath}?${new URLSearchParams({ after: '0', source })}`,
    headers: auth,
  });
  expect(polled.statusCode, polled.body).toBe(200);
  expect(polled.json()).toEqual([event]);
}
