import type { FastifyInstance } from 'fastify';
import type { HeraldConfig } from './config/config.js';
import { loadOrCreateDevSecret } from './config/dev-secret.js';
import { buildApp } from './http/app.js';
import { createTokenVerifier, type VerificationKey } from './http/auth/token-verifier.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly store: Store;
  /** The address it listens on, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Stops accepting, finishes in-flight publishes, closes the store. */
  stop(): Promise<void>;
}

/** Opens the store, builds the app and listens. */
export async function startServer(config: HeraldConfig): Promise<RunningServer> {
  const store = await openStore(config.database);
  try {
    const key = verificationKey(config);
    const app = await buildApp({
      store,
      verifier: createTokenVerifier({ key, issuer: config.jwt.issuer, audience: config.jwt.audience }),
      baseUrl: config.baseUrl,
      limits: config.limits,
      logger: { level: config.logLevel },
    });
    if (config.jwt.keys.kind === 'development') {
      app.log.warn(
        { secretFile: `${config.dataDir}/dev-jwt-secret` },
        'No JWT key configured: using a development secret from the data folder. Mint tokens with `npx herald token`. ' +
          'Set HERALD_JWT_SECRET, HERALD_JWT_PUBLIC_KEY or HERALD_JWKS_URL in production.',
      );
    }
    const url = await app.listen({ port: config.port, host: config.host });
    app.log.info({ engine: store.engine, database: describeDatabase(config.database) }, 'Herald is serving');
    return {
      app,
      store,
      url,
      async stop() {
        await app.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** The key that verifies tokens; without one configured, the development secret (created if need be). */
export function verificationKey(config: HeraldConfig): VerificationKey {
  const keys = config.jwt.keys;
  if (keys.kind !== 'development') return keys;
  return { kind: 'secret', secret: loadOrCreateDevSecret(config.dataDir).secret };
}

/** The database without its password, for logs. */
function describeDatabase(database: string): string {
  return database.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
