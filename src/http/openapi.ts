import swagger, { type SwaggerTransform } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { OpenAPIV3_1 } from 'openapi-types';
import { scopes } from '../domain/identity.js';
import { componentRef, componentSchemas } from './openapi-components.js';
import { problemCatalog } from './problems.js';

export const openapiPath = '/events/api/v1/openapi.json';
export const docsPath = '/docs';

/** Examples of a body, by name; each value is a request Herald accepts (test/http/openapi.test.ts sends them). */
export type DocumentedExamples = Record<string, { readonly summary: string; readonly value: unknown }>;

export interface DocumentedMedia {
  readonly schema: object;
  readonly examples?: DocumentedExamples;
}

export interface DocumentedResponse {
  readonly description: string;
  readonly headers?: Record<string, { readonly description: string; readonly type: string }>;
  /** Left out for an empty answer. */
  readonly content?: Record<string, DocumentedMedia>;
}

declare module 'fastify' {
  interface FastifySchema {
    /**
     * A body the route reads and checks itself (with Altinn's messages), by media type. It is only documented:
     * as `body`, Fastify would validate and coerce it before the domain sees it.
     */
    documentedBody?: Record<string, DocumentedMedia>;
    /** Success answers by status. Only documented: Herald's replies are not serialized through them. */
    documentedResponses?: Record<number, DocumentedResponse>;
    /** Problem statuses this route answers besides those its shape implies (see `impliedProblems`). */
    problems?: readonly number[];
    /**
     * The query as the document shows it, where the route reads its parameters itself (with Altinn's messages)
     * and so lets Fastify take them as strings: `size=abc` is answered in Herald's words, yet documented integer.
     */
    documentedQuery?: object;
    /** Request headers the route reads (binary mode's `ce-` attributes, `Altinn-AlternativeSubject`); only documented. */
    documentedHeaders?: object;
    /** The security requirements of an open route that may still ask for a token (`GET /metrics`). */
    documentedSecurity?: readonly Record<string, readonly string[]>[];
  }
}

const securityScheme = 'bearerAuth';
/** `GET /metrics`' own token (HERALD_METRICS_TOKEN), not a JWT. */
export const metricsSecurityScheme = 'metricsToken';

const pathParameters: Record<string, object> = {
  id: { type: 'integer', minimum: 1, description: 'The subscription id, as its creation answered.' },
  replayId: { type: 'integer', minimum: 1, description: 'The replay id, as the replay request answered.' },
  deliveryId: { type: 'integer', minimum: 1, description: "The delivery id, as the subscription's deliveries list shows it." },
};

const tags = [
  { name: 'Events', description: 'Publish events, and read the log with a cursor.' },
  { name: 'Subscriptions', description: 'Push (webhook) and pull subscriptions of the caller.' },
  { name: 'Pull', description: "A pull subscription's own queue, acknowledged by checkPoint." },
  { name: 'Deliveries', description: "A subscription's delivery log, every attempt on record, resend, ping, dead letters and redrive." },
  { name: 'Replays', description: "Sending a subscription's events from the log again, and following the replay." },
  { name: 'Filters', description: 'Trying a CESQL filter expression on an event before subscribing with it.' },
  { name: 'Operators', description: "Who the caller is, every consumer's subscriptions for operators, and Herald's overview for the console." },
  { name: 'Operations', description: 'Health, readiness, metrics and this document: no API token needed.' },
];

/**
 * Serves the OpenAPI document built from the routes' schemas at `/events/api/v1/openapi.json` and an
 * interactive page at `/docs`. Call it before any route is registered: the document collects routes as they
 * are added. Neither needs a token: only routes with `config.scopes` are authenticated.
 */
export async function installOpenApi(app: FastifyInstance, options: { readonly baseUrl?: string | undefined }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      // 3.1, so an operation can name the scopes it needs on a bearer token (3.0 allows that only for OAuth).
      openapi: '3.1.0',
      info: {
        title: 'Herald Events API',
        version: '1.0.0',
        description:
          'A CloudEvents broker speaking the Altinn Events API. Every error is RFC 9457 problem details ' +
          '(application/problem+json) with a stable `code`. A method a path does not take is answered 405 ' +
          'with an `Allow` header.',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      // Without HERALD_BASE_URL, the paths are relative to wherever the document was fetched from.
      servers: [
        options.baseUrl
          ? { url: options.baseUrl }
          : { url: '/', description: 'This Herald (set HERALD_BASE_URL to name its public address here).' },
      ],
      tags,
      components: {
        securitySchemes: {
          [securityScheme]: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description:
              `A JWT whose space-separated \`scope\` claim holds \`${scopes.publish}\` (publish), ` +
              `\`${scopes.publishAdmin}\` (publish to any resource), \`${scopes.subscribe}\` (subscribe and read) or ` +
              `\`${scopes.operator}\` (every consumer's subscriptions: docs/operators.md). ` +
              'The caller (consumer) comes from the org, userId, orgNumber or sub claim.',
          },
          [metricsSecurityScheme]: {
            type: 'http',
            scheme: 'bearer',
            description: 'HERALD_METRICS_TOKEN, when the operator set one (not a JWT).',
          },
        },
        // TypeBox schemas are JSON Schema 2020-12, which OpenAPI 3.1 takes as they are.
        schemas: componentSchemas as unknown as Record<string, OpenAPIV3_1.SchemaObject>,
      },
    },
    transform: documentRoute,
    transformObject: (documentObject) =>
      'openapiObject' in documentObject ? withPlainReferences(documentObject.openapiObject as OpenAPIV3_1.Document) : documentObject.swaggerObject,
  });
  await app.register(swaggerUi, { routePrefix: docsPath, uiConfig: { persistAuthorization: true } });

  app.get(
    openapiPath,
    {
      schema: {
        summary: 'This OpenAPI document',
        description: 'Generated from the route schemas; feed it to a client generator (docs/api.md).',
        tags: ['Operations'],
        operationId: 'getOpenApiDocument',
        documentedResponses: {
          200: { description: 'OpenAPI 3.1.', content: { 'application/json': { schema: { type: 'object' } } } },
        },
      },
    },
    async () => app.swagger(),
  );
}

/** Turns a route's schema into what the document shows: security, documented bodies and answers, problems. */
const documentRoute: SwaggerTransform = ({ schema = {}, url, route }) => {
  if (schema.hide) return { schema, url };
  const {
    documentedBody,
    documentedResponses,
    problems: extraProblems,
    documentedQuery,
    documentedHeaders,
    documentedSecurity,
    ...shown
  } = schema;
  const required = route.config?.scopes;
  const result: FastifySchema & Record<string, unknown> = { ...shown };
  if (documentedBody) result.body = { content: mapValues(documentedBody, withExamples) };
  if (documentedQuery) result.querystring = documentedQuery;
  if (documentedHeaders) result.headers = documentedHeaders;
  const names = [...url.matchAll(/:(\w+)/g)].map((m) => m[1] as string);
  if (names.length > 0 && !shown.params) {
    // Documented only: the routes check their ids themselves (a malformed id is a 404, like an unknown one).
    result.params = {
      type: 'object',
      required: names,
      properties: Object.fromEntries(names.map((name) => [name, pathParameters[name] ?? { type: 'string' }])),
    };
  }
  if (required) {
    // Any one of the scopes will do: each is its own security requirement. None listed: any valid token.
    result.security = required.length > 0 ? required.map((scope) => ({ [securityScheme]: [scope] })) : [{ [securityScheme]: [] }];
    const needs =
      required.length > 0 ? `Needs a token with the scope ${required.map((s) => `\`${s}\``).join(' or ')}.` : 'Needs a valid token, with any scopes.';
    result.description = shown.description ? `${shown.description}\n\n${needs}` : needs;
  } else {
    // Said outright, so a reader (and Redocly's rules) know the route is open on purpose.
    result.security = documentedSecurity ?? [];
  }
  const responses: Record<string, unknown> = {};
  for (const [status, answer] of Object.entries(documentedResponses ?? {})) {
    responses[status] = answer.content
      ? { ...answer, content: mapValues(answer.content, withExamples) }
      : { ...answer, type: 'null' };
  }
  for (const status of impliedProblems(schema, String(route.method).toUpperCase(), url, required, extraProblems)) responses[status] = problemResponse(status);
  if (Object.keys(responses).length > 0) result.response = responses;
  return { schema: result, url };
};

/** The problems a route can answer, read from its shape, plus those it declares. */
function impliedProblems(
  schema: FastifySchema,
  method: string,
  url: string,
  required: readonly string[] | undefined,
  extra: readonly number[] = [],
): number[] {
  const statuses = new Set(extra);
  if (schema.querystring || schema.body || schema.documentedBody) statuses.add(400);
  // Any body, even one a route does not expect, is read as JSON only and up to the request size limit: a POST
  // or DELETE can always be refused for its body.
  if (schema.body || schema.documentedBody || ['POST', 'DELETE'].includes(method)) [400, 413, 415].forEach((s) => statuses.add(s));
  // 503: the store or the token keys may be unavailable; 500: a fault of Herald's, answered without internals.
  if (required) [401, 403, 500, 503].forEach((s) => statuses.add(s));
  if (url.includes(':')) statuses.add(404);
  return [...statuses].sort((a, b) => a - b);
}

function problemResponse(status: number) {
  const titles = Object.values(problemCatalog)
    .filter((p) => p.status === status)
    .map((p) => `\`${p.code}\`: ${p.title}`);
  return {
    description: titles.length > 0 ? titles.join(' ') : 'Problem details.',
    // Rate limits and an unavailable store say when to come back.
    ...(status === 429 || status === 503
      ? { headers: { 'retry-after': { type: 'integer', description: 'Seconds to wait before retrying.' } } }
      : {}),
    content: { 'application/problem+json': { schema: componentRef('Problem') } },
  };
}

/** Swagger reads a media type's examples from its schema (`x-examples`); a `$ref` cannot carry them beside it. */
function withExamples(media: DocumentedMedia): { schema: object } {
  if (!media.examples) return { schema: media.schema };
  const schema = '$ref' in media.schema ? { allOf: [media.schema] } : { ...media.schema };
  return { schema: { ...schema, 'x-examples': media.examples } };
}

function mapValues<T, U>(record: Record<string, T>, map: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]));
}

/**
 * Swagger drops whatever sits beside a `$ref`, so `withExamples` wraps a reference in `allOf` to carry examples
 * through it; once the examples have moved to the media type, the wrapper is undone (`allOf` of one schema
 * is only noise to readers, linters and generators).
 */
function withPlainReferences(document: OpenAPIV3_1.Document): OpenAPIV3_1.Document {
  const unwrap = (content: Record<string, OpenAPIV3_1.MediaTypeObject> | undefined) => {
    for (const media of Object.values(content ?? {})) {
      const schema = media.schema as { allOf?: object[] } | undefined;
      if (schema?.allOf?.length === 1 && Object.keys(schema).length === 1) media.schema = schema.allOf[0] as OpenAPIV3_1.SchemaObject;
    }
  };
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(item ?? {})) {
      if (typeof operation !== 'object' || operation === null || !('responses' in operation)) continue;
      const { requestBody, responses } = operation as OpenAPIV3_1.OperationObject;
      unwrap((requestBody as OpenAPIV3_1.RequestBodyObject | undefined)?.content);
      for (const response of Object.values(responses ?? {})) unwrap((response as OpenAPIV3_1.ResponseObject).content);
    }
  }
  return document;
}
