import type { FastifyServerOptions } from 'fastify';

/**
 * Herald's logger: pino JSON lines on standard output, one object per line, with the level as a word and the
 * time in ISO 8601 (UTC), so log shippers need no mapping. Fastify adds `reqId` (the request id, also the
 * `traceId` of problem details) to every line written while serving a request. `docs/observability.md` shows
 * the format.
 */
export function loggerOptions(level: string): NonNullable<FastifyServerOptions['logger']> {
  return {
    level,
    formatters: { level: (label: string) => ({ level: label }) },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
  };
}
