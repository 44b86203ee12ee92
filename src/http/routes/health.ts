import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/store.js';
import { HttpProblem } from '../problems.js';

const status = (properties: Record<string, object>) => ({
  'application/json': { schema: { type: 'object', required: Object.keys(properties), properties } },
});

const docs = {
  health: {
    summary: 'Liveness',
    description: 'The process is up. No token needed.',
    tags: ['Operations'],
    operationId: 'getHealth',
    documentedResponses: { 200: { description: 'Up.', content: status({ status: { const: 'ok' } }) } },
  },
  ready: {
    summary: 'Readiness',
    description: 'The store answers, so requests can be served. No token needed.',
    tags: ['Operations'],
    operationId: 'getReady',
    documentedResponses: {
      200: { description: 'Ready.', content: status({ status: { const: 'ready' }, engine: { enum: ['sqlite', 'postgres'] } }) },
    },
    problems: [503],
  },
};

/** `GET /health`: the process is up. `GET /ready`: the store answers, so requests can be served. */
export async function healthRoutes(app: FastifyInstance, options: { readonly store: Store }): Promise<void> {
  app.get('/health', { schema: docs.health }, async () => ({ status: 'ok' }));
  app.get('/ready', { schema: docs.ready }, async (request) => {
    try {
      await options.store.ping();
    } catch (error) {
      request.log.warn({ err: error }, 'store not reachable');
      throw new HttpProblem('storeUnavailable', 'The event store does not answer.');
    }
    return { status: 'ready', engine: options.store.engine };
  });
}
