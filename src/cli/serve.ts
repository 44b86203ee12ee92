import type { HeraldConfig } from '../config/config.js';
import { startServer } from '../server.js';

/** `herald serve`: runs until SIGTERM or SIGINT, then shuts down gracefully. */
export async function serve(config: HeraldConfig): Promise<void> {
  const server = await startServer(config);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        server.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
