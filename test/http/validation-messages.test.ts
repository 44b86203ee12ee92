import type { FastifySchemaValidationError } from 'fastify';
import { describe, expect, it } from 'vitest';
import { RouteMethods } from '../../src/http/route-methods.js';
import { heraldFieldErrors } from '../../src/http/validation-messages.js';

const issue = (keyword: string, instancePath: string, params: Record<string, unknown>) =>
  ({ keyword, instancePath, params, schemaPath: '', message: 'validator words' }) as FastifySchemaValidationError;

describe("heraldFieldErrors: the validator's findings in Herald's words", () => {
  it.each([
    [issue('enum', '/status', { allowedValues: ['pending', 'dead'] }), 'querystring', 'status', "The 'status' parameter must be one of: pending, dead."],
    [issue('type', '/size', { type: 'integer' }), 'querystring', 'size', "The 'size' parameter must be an integer."],
    [issue('maximum', '/size', { limit: 1000 }), 'querystring', 'size', "The 'size' parameter must be at most 1000."],
    [issue('maxItems', '/type', { limit: 100 }), 'querystring', 'type', "The 'type' parameter may be given at most 100 times."],
    [issue('required', '', { missingProperty: 'after' }), 'body', 'after', "The 'after' field is required."],
    [issue('additionalProperties', '', { additionalProperty: 'bogus' }), 'body', 'bogus', "The 'bogus' field is not a field this request takes."],
    [issue('format', '/diedFrom', { format: 'date-time' }), 'body', 'diedFrom', "The 'diedFrom' field must be an RFC 3339 date and time, such as 2026-01-31T12:00:00Z."],
    [issue('type', '', { type: 'object' }), 'body', 'body', 'The request body must be a JSON object.'],
  ])('%#: %s', (found, context, field, message) => {
    expect(heraldFieldErrors([found], context)).toEqual([{ field, message }]);
  });
});

describe('RouteMethods: the methods a path takes, as the router matches paths', () => {
  const methods = new RouteMethods();
  methods.add(['GET', 'HEAD'], '/events/api/v1/subscriptions/:id');
  methods.add('DELETE', '/events/api/v1/subscriptions/:id');
  methods.add('GET', '/docs/*');

  it('matches parameters, trailing and doubled slashes, and wildcards', () => {
    expect(methods.of('/events/api/v1/subscriptions/12')).toEqual(['DELETE', 'GET', 'HEAD']);
    expect(methods.of('/events/api/v1//subscriptions/12/')).toEqual(['DELETE', 'GET', 'HEAD']);
    expect(methods.of('/docs/static/index.css')).toEqual(['GET']);
  });

  it('knows no methods for a path it does not have', () => {
    expect(methods.of('/events/api/v1/subscriptions/12/nothing')).toEqual([]);
    expect(methods.of('/events/api/v1/subscriptions')).toEqual([]);
  });
});
