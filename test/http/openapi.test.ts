import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consolePath } from '../../src/http/console.js';
import { docsPath, openapiPath } from '../../src/http/openapi.js';
import { describeEachEngine, engines } from '../support/engines.js';
import { createTestApp, sampleEvent, type TestApp } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { scopes } from '../../src/domain/identity.js';

interface Parameter {
  readonly name: string;
  readonly in: string;
  readonly required?: boolean;
  readonly example?: unknown;
  readonly examples?: Record<string, { value: unknown }>;
}
interface Media {
  readonly examples?: Record<string, { summary?: string; value: unknown }>;
  readonly example?: unknown;
}
interface Operation {
  readonly operationId?: string;
  readonly summary?: string;
  readonly tags?: string[];
  readonly security?: Record<string, string[]>[];
  readonly parameters?: Parameter[];
  readonly requestBody?: { content: Record<string, Media> };
  readonly responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}
interface Document {
  readonly openapi: string;
  readonly paths: Record<string, Record<string, Operation>>;
  readonly tags: { name: string }[];
  readonly components: { securitySchemes: Record<string, { type: string; scheme: string }> };
}

/** One documented operation, with its path in Fastify's form (`/subscriptions/:id`). */
interface DocumentedOperation extends Operation {
  readonly method: string;
  readonly path: string;
  readonly route: string;
}

function operationsOf(document: Document): DocumentedOperation[] {
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({
      ...operation,
      method: method.toUpperCase(),
      path,
      route: path.replace(/\{(\w+)\}/g, ':$1'),
    })),
  );
}

/**
 * Every method and full path Fastify registered, read from `printRoutes`' tree (each level indents by four
 * characters). HEAD routes that Fastify adds beside GET are left out, as the document leaves them out.
 */
function registeredRoutes(tree: string): string[] {
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([^)]+)\))?/.exec(line);
    if (!match) continue;
    const depth = (match[1] as string).length / 4;
    stack.length = depth;
    stack.push(match[2] as string);
    const methods = match[3]?.split(', ') ?? [];
    for (const method of methods) {
      if (method === 'HEAD' && methods.includes('GET')) continue;
      routes.push(`${method} ${stack.join('')}`);
    }
  }
  return routes;
}

/** The values of a parameter's or a body's examples, in order. */
function exampleValues(holder: { example?: unknown; examples?: Record<string, { value: unknown }> }): unknown[] {
  if (holder.examples) return Object.values(holder.examples).map((e) => e.value);
  return holder.example === undefined ? [] : [holder.example];
}

/**
 * The query strings an operation's parameter examples make: every example parameter at its first example (as
 * the docs page's "Try it out" fills them in), then once more for each further example of a parameter.
 */
function exampleQueries(operation: Operation): URLSearchParams[] {
  const query = (operation.parameters ?? []).filter((p) => p.in === 'query' && exampleValues(p).length > 0);
  // Without a filter a poll is refused (it needs `resource` or `source`): "Try it out" starts there on purpose.
  if (operation.operationId === 'getEvents') query.push({ name: 'resource', in: 'query', example: 'urn:altinn:resource:dodsbo.domstoladmin.api' });
  if (query.length === 0) return [];
  const build = (swap?: { name: string; value: unknown }) => {
    const search = new URLSearchParams();
    for (const parameter of query) {
      const value = swap?.name === parameter.name ? swap.value : exampleValues(parameter)[0];
      for (const item of Array.isArray(value) ? value : [value]) search.append(parameter.name, String(item));
    }
    return search;
  };
  return [
    build(),
    ...query.flatMap((p) => exampleValues(p).slice(1).map((value) => build({ name: p.name, value }))),
  ];
}

describe('the OpenAPI document', () => {
  let herald: TestApp;
  let document: Document;

  beforeAll(async () => {
    herald = await createTestApp(engines[0]!);
    const answer = await herald.app.inject({ url: openapiPath });
    expect(answer.statusCode).toBe(200);
    document = answer.json();
  });
  afterAll(() => herald.close());

  it('is served without a token, as OpenAPI 3.1 with bearer JWT security', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('lists every route the app registers with its method, except the docs page and the console', () => {
    const documented = new Set(operationsOf(document).map((o) => `${o.method} ${o.route}`));
    // The pages' own files (HTML, scripts, styles, copies of this document) are not API: hidden on purpose.
    const routes = registeredRoutes(herald.app.printRoutes({ commonPrefix: false })).filter(
      (route) => ![docsPath, consolePath].some((page) => route.split(' ')[1]?.startsWith(page)),
    );
    expect(routes.length).toBeGreaterThan(10);
    expect(routes.filter((route) => !documented.has(route))).toEqual([]);
    expect([...documented].filter((route) => !routes.includes(route))).toEqual([]);
  });

  it('gives every operation a unique operationId, a summary and a declared tag', () => {
    const declared = new Set(document.tags.map((t) => t.name));
    const operations = operationsOf(document);
    const ids = operations.map((o) => o.operationId);
    expect(ids.filter((id) => id === undefined)).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const operation of operations) {
      expect(operation.summary, `${operation.method} ${operation.path}`).toBeTruthy();
      expect(operation.tags?.length, `${operation.method} ${operation.path}`).toBeGreaterThan(0);
      for (const tag of operation.tags ?? []) expect(declared).toContain(tag);
    }
  });

  it('documents the scopes of every guarded route, and its problems as problem details', async () => {
    const guarded = operationsOf(document).filter((o) => o.security?.some((requirement) => requirement.bearerAuth));
    expect(guarded.length).toBeGreaterThan(5);
    for (const operation of guarded) {
      const scopes = operation.security?.flatMap((requirement) => requirement.bearerAuth ?? []) ?? [];
      // Only "who am I" takes any valid token, whatever its scopes.
      if (operation.operationId !== 'getMe') expect(scopes.length, operation.path).toBeGreaterThan(0);
      for (const status of ['401', '403']) {
        const problem = operation.responses[status]?.content?.['application/problem+json'];
        expect(problem?.schema?.$ref, `${operation.method} ${operation.path} ${status}`).toBe('#/components/schemas/Problem');
      }
      // And Herald does answer a call without a token that way.
      const answer = await herald.app.inject({ method: operation.method, url: operation.path.replace('{id}', '1') });
      expect(answer.statusCode, `${operation.method} ${operation.path}`).toBe(401);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('has examples for every request body (binary mode aside: its attributes are headers)', () => {
    for (const operation of operationsOf(document)) {
      for (const [mediaType, media] of Object.entries(operation.requestBody?.content ?? {})) {
        if (mediaType === '*/*') continue;
        expect(exampleValues(media).length, `${operation.path} ${mediaType}`).toBeGreaterThan(0);
      }
    }
  });

  it('pre-fills no optional query parameter, so "Try it out" on /docs starts with no filter set', () => {
    const prefilled = operationsOf(document).flatMap((operation) =>
      (operation.parameters ?? [])
        .filter((p) => p.in === 'query' && !p.required && exampleValues(p).length > 0)
        .map((p) => `${operation.operationId} ${p.name}`),
    );
    expect(prefilled).toEqual([]);
  });

  it('declares every open route open (security: []), and /metrics as open or with its own token', () => {
    for (const operation of operationsOf(document)) {
      expect(operation.security, `${operation.method} ${operation.path}`).toBeDefined();
    }
    const open = operationsOf(document).filter((o) => !o.security?.some((requirement) => requirement.bearerAuth));
    expect(open.map((o) => o.operationId).sort()).toEqual(['getHealth', 'getMetrics', 'getOpenApiDocument', 'getReady'].sort());
  });
});

describeEachEngine('the examples in the OpenAPI document', (engine) => {
  let herald: TestApp;
  let document: Document;
  let subscriptionId: number;
  let pushSubscriptionId: number;
  const pushOnly = new Set(['rotateSubscriptionSecret']);
  let deliveryId: number;
  /** An operator's disable is tried on a subscription of its own, so the others stay usable for the rest. */
  const operatorOnly = new Set(['disableSubscription']);
  let spareSubscriptionId: number;
  let operatorAuth: { authorization: string };

  beforeAll(async () => {
    herald = await createTestApp(engine);
    document = (await herald.app.inject({ url: openapiPath })).json();
    // A pull subscription stands in for `{id}`; it queues the published examples, so reading it answers at once.
    const created = await herald.app.inject({
      method: 'POST',
      url: '/events/api/v1/subscriptions',
      headers: herald.auth,
      payload: { resourceFilter: 'urn:altinn:resource:dodsbo.domstoladmin.api' },
    });
    expect(created.statusCode).toBe(201);
    subscriptionId = created.json().id;
    // Rotating a secret needs a push subscription (a pull one signs nothing).
    const push = await herald.app.inject({
      method: 'POST',
      url: '/events/api/v1/subscriptions',
      headers: herald.auth,
      payload: { endPoint: 'http://127.0.0.1:9/hook', resourceFilter: 'urn:altinn:resource:dodsbo.domstoladmin.api' },
    });
    expect(push.statusCode).toBe(201);
    pushSubscriptionId = push.json().id;
    // One queued event stands in for `{deliveryId}`.
    const published = await herald.app.inject({ method: 'POST', url: '/events/api/v1/events', headers: herald.auth, payload: sampleEvent() });
    expect(published.statusCode).toBe(200);
    const listed = await herald.app.inject({ url: `/events/api/v1/subscriptions/${subscriptionId}/deliveries`, headers: herald.auth });
    deliveryId = listed.json().deliveries[0].id;
    const spare = await herald.app.inject({
      method: 'POST',
      url: '/events/api/v1/subscriptions',
      headers: herald.auth,
      payload: { resourceFilter: 'urn:altinn:resource:dodsbo.domstoladmin.api', typeFilter: 'spare' },
    });
    spareSubscriptionId = spare.json().id;
    operatorAuth = { authorization: `Bearer ${await testToken({ scope: scopes.operator })}` };
  });
  afterAll(() => herald.close());

  it('are requests Herald accepts: every body example, then every query example', async () => {
    const operations = operationsOf(document);
    const idFor = (operationId = '') =>
      operatorOnly.has(operationId) ? spareSubscriptionId : pushOnly.has(operationId) ? pushSubscriptionId : subscriptionId;
    const url = (operation: DocumentedOperation, query?: URLSearchParams) =>
      `${operation.path.replace('{id}', String(idFor(operation.operationId))).replace('{deliveryId}', String(deliveryId))}${query ? `?${query}` : ''}`;
    const sent: string[] = [];
    for (const operation of operations) {
      for (const [mediaType, media] of Object.entries(operation.requestBody?.content ?? {})) {
        if (mediaType === '*/*') continue;
        for (const example of exampleValues(media)) {
          const answer = await herald.app.inject({
            method: operation.method,
            url: url(operation),
            headers: { ...(operatorOnly.has(operation.operationId ?? '') ? operatorAuth : herald.auth), 'content-type': mediaType },
            payload: JSON.stringify(example),
          });
          expect(answer.statusCode, `${operation.operationId} ${mediaType}: ${answer.body}`).toBeLessThan(400);
          sent.push(`${operation.operationId} ${mediaType}`);
        }
      }
    }
    for (const operation of operations) {
      if (operation.requestBody) continue;
      for (const query of exampleQueries(operation)) {
        const answer = await herald.app.inject({ method: operation.method, url: url(operation, query), headers: herald.auth });
        expect(answer.statusCode, `${operation.operationId} ?${query}: ${answer.body}`).toBeLessThan(400);
        sent.push(`${operation.operationId} ?${query}`);
      }
    }
    expect(sent).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^publishEvents application\/cloudevents\+json/),
        expect.stringMatching(/^publishEvents application\/cloudevents-batch\+json/),
        expect.stringMatching(/^createSubscription application\/json/),
        expect.stringMatching(/^getEvents \?/),
      ]),
    );
    // The published examples were stored, and the log read shows them.
    const log = await herald.app.inject({
      url: '/events/api/v1/events?after=0&resource=urn:altinn:resource:dodsbo.domstoladmin.api',
      headers: herald.auth,
    });
    expect(log.json().length).toBeGreaterThanOrEqual(3);
  });
});

describe('the docs page', () => {
  let herald: TestApp;
  let origin: string;

  beforeAll(async () => {
    herald = await createTestApp(engines[0]!);
    // Over a real socket, as a browser loads it: the static files are streamed from disk.
    await herald.app.listen({ port: 0, host: '127.0.0.1' });
    origin = `http://127.0.0.1:${(herald.app.server.address() as AddressInfo).port}`;
  });
  afterAll(() => herald.close());

  for (const page of [docsPath, `${docsPath}/`]) {
    it(`answers ${page} with HTML whose scripts and styles all load from Herald, without a token`, async () => {
      const answer = await fetch(`${origin}${page}`);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await answer.text();
      const assets = [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1] as string);
      expect(assets.length).toBeGreaterThanOrEqual(4);
      for (const asset of assets) {
        const assetUrl = new URL(asset, `${origin}${page}`);
        // Nothing comes from elsewhere: the page works with no network beyond Herald.
        expect(assetUrl.origin).toBe(origin);
        const loaded = await fetch(assetUrl);
        expect(loaded.status, asset).toBe(200);
        expect((await loaded.arrayBuffer()).byteLength, asset).toBeGreaterThan(100);
      }
    });
  }

  it('loads the same document the API serves', async () => {
    const initializer = await (await fetch(`${origin}${docsPath}/static/swagger-initializer.js`)).text();
    expect(initializer).toContain("resolveUrl('./json')");
    const shown = await (await fetch(`${origin}${docsPath}/json`)).json();
    const served = await (await fetch(`${origin}${openapiPath}`)).json();
    expect(shown).toEqual(served);
  });
});
