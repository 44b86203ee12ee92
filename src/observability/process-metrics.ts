import { collectDefaultMetrics, Registry } from 'prom-client';

let processRegistry: Registry | undefined;

/**
 * prom-client's default metrics (CPU, memory, event loop lag, GC, handles), in a registry of their own that
 * every app in the process shares. They describe the process, not an app, and collecting them starts
 * observers that are never stopped, so they are started once per process rather than once per app; Herald
 * never uses prom-client's global registry.
 */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}
