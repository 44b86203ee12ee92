import type { FastifyInstance } from 'fastify';
import { isOperator } from '../../domain/identity.js';
import { callerOf } from '../auth/authenticate.js';

export const mePath = '/events/api/v1/me';

const docs = {
  summary: 'Who the caller is',
  description:
    'The consumer Herald takes the token for, its scopes (lower-case, as Herald compares them) and whether it is an ' +
    'operator (scope `herald:operator`, docs/operators.md): what a client such as the console shows and offers.',
  tags: ['Operators'],
  operationId: 'getMe',
  documentedResponses: {
    200: {
      description: 'The caller.',
      content: {
        'application/json': {
          schema: {
            type: 'object',
            required: ['consumer', 'scopes', 'operator'],
            properties: {
              consumer: { type: 'string', description: 'As subscriptions name their owner: /org/ttd, /user/1337, /organisation/…, /sub/….' },
              scopes: { type: 'array', items: { type: 'string' }, description: "The token's scopes, sorted." },
              operator: { type: 'boolean' },
            },
          },
        },
      },
    },
  },
};

/** `GET /me`: any valid token may ask who it is. */
export async function meRoute(app: FastifyInstance): Promise<void> {
  app.get(mePath, { config: { scopes: [] }, schema: docs }, async (request) => {
    const caller = callerOf(request);
    return { consumer: caller.consumer, scopes: [...caller.scopes].sort(), operator: isOperator(caller) };
  });
}
