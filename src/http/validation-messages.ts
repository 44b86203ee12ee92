import type { FastifySchemaValidationError } from 'fastify';
import type { FieldError } from '../domain/validation.js';

/**
 * Herald's words for what the schema validator found. The validator speaks JSON Schema ("must be equal to
 * constant", "must match pattern"), which names no field a client sent and no value it may send instead; these
 * name the parameter, field or header, and what it takes.
 */

const partNames: Record<string, string> = {
  querystring: 'parameter',
  body: 'field',
  headers: 'header',
  params: 'path parameter',
};

const typeNames: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  object: 'a JSON object',
  null: 'null',
};

const formatNames: Record<string, string> = {
  'date-time': 'an RFC 3339 date and time, such as 2026-01-31T12:00:00Z',
  uri: 'an absolute URI',
};

/** The field a validation issue concerns (`status`, `filters.0.sql`), or `body` for the request as a whole. */
function fieldOf(issue: FastifySchemaValidationError, context: string): string {
  const path = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const params = issue.params as Record<string, unknown>;
  const child = params.missingProperty ?? params.additionalProperty;
  const named = [path, typeof child === 'string' ? child : ''].filter(Boolean).join('.');
  return named || (context === 'body' ? 'body' : context);
}

/** What the value must be, by the rule it broke. */
function ruleOf(issue: FastifySchemaValidationError, context: string): string {
  const params = issue.params as Record<string, unknown>;
  const limit = params.limit;
  switch (issue.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return `is not a ${partNames[context] ?? 'field'} this request takes`;
    case 'type':
      return `must be ${String(params.type).split(',').map((t) => typeNames[t] ?? t).join(' or ')}`;
    case 'enum':
      return `must be one of: ${(params.allowedValues as unknown[]).map((v) => String(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}`;
    case 'minimum':
      return `must be at least ${String(limit)}`;
    case 'maximum':
      return `must be at most ${String(limit)}`;
    case 'exclusiveMinimum':
      return `must be above ${String(limit)}`;
    case 'exclusiveMaximum':
      return `must be below ${String(limit)}`;
    case 'minLength':
      return limit === 1 ? 'must not be empty' : `must be at least ${String(limit)} characters long`;
    case 'maxLength':
      return `must be at most ${String(limit)} characters long`;
    case 'minItems':
      return `must hold at least ${String(limit)} items`;
    case 'maxItems':
      return context === 'querystring' ? `may be given at most ${String(limit)} times` : `must hold at most ${String(limit)} items`;
    case 'minProperties':
      return 'must not be empty';
    case 'format':
      return `must be ${formatNames[String(params.format)] ?? `a valid ${String(params.format)}`}`;
    case 'pattern':
      return 'is not in the form the API documentation gives for it';
    default:
      return 'is not valid';
  }
}

/**
 * The field errors of a request the route schema refused, in Herald's words.
 * @example heraldFieldErrors([{ keyword: 'enum', instancePath: '/status', params: { allowedValues: ['dead'] } }], 'querystring')
 *   // [{ field: 'status', message: "The 'status' parameter must be one of: dead." }]
 */
export function heraldFieldErrors(issues: readonly FastifySchemaValidationError[], context: string): FieldError[] {
  return issues.map((issue) => {
    const field = fieldOf(issue, context);
    const noun = field === 'body' ? 'request body' : `'${field}' ${partNames[context] ?? 'value'}`;
    return { field, message: `The ${noun} ${ruleOf(issue, context)}.` };
  });
}
