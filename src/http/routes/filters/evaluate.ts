import type { FastifyInstance } from 'fastify';
import { compileCesql } from '../../../domain/cesql/index.js';
import { parseFilterEvaluationRequest } from '../../../domain/filter-evaluation-request.js';
import { scopes } from '../../../domain/identity.js';
import { componentRef } from '../../openapi-components.js';
import { HttpProblem, invalid } from '../../problems.js';

import { exampleEvent as publishedExample } from '../events/publish.js';

export const filtersEvaluatePath = '/events/api/v1/filters/evaluate';

const exampleEvent = { ...publishedExample, priority: 3 };

const docs = {
  summary: 'Evaluate a CESQL expression on an event',
  description:
    'Compiles a CloudEvents SQL (CESQL 1.0) expression and evaluates it on the event given, which must be valid ' +
    'as publishing requires. Nothing is stored. The answer is the value and every error met on the way: as a ' +
    'subscription filter, the expression would match the event only if the result is `true` with no errors. An ' +
    'expression that does not parse is a 400 `filters:parse` problem whose `location` says where. See docs/filters.md.',
  tags: ['Filters'],
  operationId: 'evaluateFilter',
  documentedBody: {
    'application/json': {
      schema: componentRef('FilterEvaluationRequest'),
      examples: {
        matches: {
          summary: 'A type prefix and a subject that must be there',
          value: { expression: "type LIKE 'no.altinn.events.%' AND EXISTS subject", event: exampleEvent },
        },
        casts: {
          summary: 'An extension compared as an integer',
          value: { expression: 'priority >= 2 AND subject IN (\'/party/50015641\', \'/party/50015642\')', event: exampleEvent },
        },
        missingAttribute: {
          summary: 'An attribute the event lacks: false, with a missingAttribute error',
          value: { expression: "resourceinstance = '1337'", event: exampleEvent },
        },
        value: {
          summary: 'Any value, not only a boolean',
          value: { expression: "CONCAT_WS(':', LOWER(SUBSTRING(subject, 2, 5)), LENGTH(id))", event: exampleEvent },
        },
      },
    },
  },
  documentedResponses: {
    200: {
      description: 'The value of the expression on the event, and the errors evaluating it met.',
      content: {
        'application/json': {
          schema: componentRef('FilterEvaluation'),
          examples: {
            matches: { summary: 'A match', value: { result: true, errors: [] } },
            missingAttribute: {
              summary: 'No match: an attribute is missing',
              value: { result: false, errors: [{ kind: 'missingAttribute', message: "The event has no attribute 'resourceinstance'." }] },
            },
          },
        },
      },
    },
  },
} as const;

/** `POST /filters/evaluate`: try a CESQL expression on an event (docs/filters.md). Reads and writes nothing stored. */
export async function filterEvaluateRoute(app: FastifyInstance): Promise<void> {
  app.post(filtersEvaluatePath, { config: { scopes: [scopes.subscribe] }, schema: docs }, async (request, reply) => {
    const parsed = parseFilterEvaluationRequest(request.body);
    if (!parsed.ok) throw invalid('invalidRequest', parsed.errors);
    const compiled = compileCesql(parsed.value.expression);
    if (!compiled.ok) {
      const { message, offset, line, column } = compiled.error;
      const where = `line ${line}, column ${column} (offset ${offset})`;
      throw new HttpProblem('filterParse', `The expression does not parse at ${where}: ${message}`, {
        errors: [{ field: 'expression', message: `At ${where}: ${message}` }],
        members: { location: { offset, line, column } },
      });
    }
    const { result, errors } = compiled.expression.evaluate(parsed.value.event);
    return reply.code(200).send({ result, errors });
  });
}
