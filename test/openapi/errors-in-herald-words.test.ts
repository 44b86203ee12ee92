import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openapiPath } from '../../src/http/openapi.js';
import { expectProblem } from '../http/harness.js';
import { streamPath } from '../http/stream-harness.js';
import { engines } from '../support/engines.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/** The schema validator's own phrasing, which names neither what the client sent nor what it may send. */
const validatorPhrasing =
  /must be equal to|must match (pattern|format|a schema|exactly one)|must NOT have|must have required property|must be (integer|string|number|boolean|object|array|null)\b|must be [<>]=?|must pass|querystring[./]|body\/|params[./]/;

interface Schema {
  readonly $ref?: string;
  readonly type?: string | string[];
  readonly enum?: unknown[];
  readonly items?: Schema;
  readonly properties?: Record<string, Schema>;
  readonly anyOf?: Schema[];
  readonly allOf?: Schema[];
}
interface Operation {
  readonly operationId: string;
  readonly parameters?: { name: string; in: string; schema: Schema }[];
  readonly requestBody?: { content: Record<string, { schema: Schema }> };
}
interface Document {
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: { schemas: Record<string, Schema> };
}

/** Values a parameter of this schema does not take. */
function badQueryValues(schema: Schema): string[][] {
  if (schema.type === 'integer') return [['abc'], ['1.5'], ['-5'], ['99999999999999999999']];
  if (schema.enum) return [['nonsense']];
  if (schema.type === 'array') return [Array.from({ length: 101 }, (_, i) => `t${i}`)];
  return [[''], ['%ZZ'], ['x'.repeat(5000)]];
}

/** A value of the wrong type for each property, one property at a time. */
function badBodies(schema: Schema, components: Record<string, Schema>): unknown[] {
  const resolved = resolveRef(schema, components);
  const properties = resolved.properties ?? resolveRef(resolved.allOf?.[0] ?? resolved.anyOf?.[0] ?? {}, components).properties ?? {};
  const wrong = (property: Schema): unknown => {
    const type = resolveRef(property, components).type;
    return type === 'string' ? 42 : type === 'integer' || type === 'number' ? 'many' : type === 'boolean' ? 'yes' : type === 'array' ? {} : 7;
  };
  return [
    [],
    'text',
    { nonsenseField: 1 },
    ...Object.entries(properties).map(([name, property]) => ({ [name]: wrong(property) })),
    ...Object.keys(properties).map((name) => ({ [name]: { nested: [1, 2] } })),
  ];
}

function resolveRef(schema: Schema, components: Record<string, Schema>): Schema {
  return schema.$ref ? (components[schema.$ref.split('/').at(-1) as string] ?? {}) : schema;
}

describe("every 400 in Herald's words, not the schema validator's", () => {
  let herald: TestApp;
  let document: Document;
  let subscriptionId: number;

  beforeAll(async () => {
    herald = await createTestApp(engines[0]!);
    document = (await herald.app.inject({ url: openapiPath })).json();
    const created = await herald.app.inject({
      method: 'POST',
      url: '/events/api/v1/subscriptions',
      headers: herald.auth,
      payload: { endPoint: 'http://127.0.0.1:9/hook', resourceFilter: 'urn:altinn:resource:dodsbo.domstoladmin.api' },
    });
    subscriptionId = created.json().id;
  });
  afterAll(() => herald.close());

  it('walks every route with bad query values and bad bodies: no 5xx, no validator phrasing in any problem', async () => {
    const spoken: string[] = [];
    let refused = 0;
    const check = async (operation: Operation, method: string, url: string, payload?: string, contentType?: string) => {
      const answer = await herald.app.inject({
        method: method.toUpperCase() as 'GET',
        url,
        headers: { ...herald.auth, ...(contentType ? { 'content-type': contentType } : {}) },
        ...(payload === undefined ? {} : { payload }),
      });
      expect(answer.statusCode, `${operation.operationId} ${url} ${payload ?? ''}: ${answer.body}`).toBeLessThan(500);
      if (answer.statusCode !== 400) return;
      refused += 1;
      const body = expectProblem(answer, 400, answer.json().code);
      for (const message of [body.detail, ...Object.values(body.errors ?? {}).flat()]) {
        if (validatorPhrasing.test(message)) spoken.push(`${operation.operationId} ${url} ${payload ?? ''}: ${message}`);
      }
    };
    for (const [path, operations] of Object.entries(document.paths)) {
      const concrete = path.replace(/\{id\}/, String(subscriptionId)).replace(/\{\w+\}/g, '1');
      for (const [method, operation] of Object.entries(operations)) {
        for (const parameter of operation.parameters ?? []) {
          if (parameter.in !== 'query') continue;
          for (const values of badQueryValues(parameter.schema)) {
            const query = new URLSearchParams();
            if (path === '/events/api/v1/events' || path === streamPath) query.set('resource', 'urn:altinn:resource:dodsbo.domstoladmin.api');
            // A stream that opens does not end: from a position beyond the log, every query it accepts is a 400.
            if (path === streamPath) query.set('after', '~999999999999999');
            if (path === streamPath) query.delete(parameter.name);
            for (const value of values) query.append(parameter.name, value);
            await check(operation, method, `${concrete}?${query}`);
          }
        }
        const jsonBody = operation.requestBody?.content['application/json'];
        if (jsonBody && method === 'post' && path !== '/events/api/v1/events') {
          for (const payload of badBodies(jsonBody.schema, document.components.schemas)) {
            await check(operation, method, concrete, JSON.stringify(payload), 'application/json');
          }
        }
      }
    }
    expect(refused).toBeGreaterThan(50);
    expect(spoken).toEqual([]);
  });

  it('names the allowed values of an enum, such as a delivery status', async () => {
    const answer = await herald.app.inject({
      url: `/events/api/v1/subscriptions/${subscriptionId}/deliveries?status=nonsense`,
      headers: herald.auth,
    });
    const body = expectProblem(answer, 400, 'events:invalidQuery');
    expect(body.detail).toBe("The 'status' parameter must be one of: pending, failed, delivered, dead.");
    expect(body.errors).toEqual({ status: [body.detail] });
  });
});

describe('405 for a path Herald has, asked with a method it does not take', () => {
  let herald: TestApp;
  beforeAll(async () => {
    herald = await createTestApp(engines[0]!);
  });
  afterAll(() => herald.close());

  for (const [method, url, allow] of [
    ['PUT', '/events/api/v1/events', 'GET, HEAD, POST'],
    ['PATCH', '/events/api/v1/subscriptions/12', 'DELETE, GET, HEAD'],
    ['DELETE', '/events/api/v1/events/', 'GET, HEAD, POST'],
    ['POST', '/events/api/v1/subscriptions//12/deliveries', 'GET, HEAD'],
    ['OPTIONS', '/health', 'GET, HEAD'],
  ] as const) {
    it(`answers ${method} ${url} 405 with Allow: ${allow}`, async () => {
      const answer = await herald.app.inject({ method, url, headers: herald.auth });
      const body = expectProblem(answer, 405, 'events:methodNotAllowed');
      expect(answer.headers.allow).toBe(allow);
      expect(body.detail).toContain(allow);
    });
  }

  it('still answers 404 for a path Herald does not have', async () => {
    expectProblem(await herald.app.inject({ method: 'PUT', url: '/events/api/v1/nothing' }), 404, 'events:notFound');
  });
});
