import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/store.js';
import { HttpProblem } from '../problems.js';

/** `GET /health`: the process is up. `GET /ready`: the store answers, so requests can be served. */
export async function healthRoutes(app: FastifyInstance, options: { readonly store: Store }): Promise<void> {
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (request) => {
    try {
      await options.store.ping();
    } catch (error) {
      request.log.warn({ err: error }, 'store not reachable');
      throw new HttpProblem('storeUnavailable', 'The event store does not answer.');
    }
    return { status: 'ready', engine: options.store.engine };
  });
}
