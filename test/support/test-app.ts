import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.js';
import { createTokenVerifier } from '../../src/http/auth/token-verifier.js';
import type { Store } from '../../src/store/store.js';
import type { Engine, TestDatabase } from './engines.js';
import { testSecret, testToken } from './tokens.js';

export interface TestApp {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly db: TestDatabase;
  /** A token with publish and subscribe scopes. */
  readonly token: string;
  readonly auth: { authorization: string };
  close(): Promise<void>;
}

export const baseUrl = 'https://herald.test';

/** An app on a fresh database of the given engine, exercised through `app.inject()`. */
export async function createTestApp(
  engine: Engine,
  limits = { maxEventBytes: 256 * 1024, maxRequestBytes: 1024 * 1024 },
): Promise<TestApp> {
  const db = await engine.create();
  const store = await db.open();
  const app = await buildApp({
    store,
    verifier: createTokenVerifier({ key: { kind: 'secret', secret: testSecret } }),
    baseUrl,
    limits,
  });
  const token = await testToken();
  return {
    app,
    store,
    db,
    token,
    auth: { authorization: `Bearer ${token}` },
    async close() {
      await app.close();
      await db.destroy();
    },
  };
}

/** A valid structured event; override any attribute. */
export function sampleEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: crypto.randomUUID(),
    source: 'https://api.domstol.no/dodsbo-api/v1/dodsbo/91f2388f-bd8c-4647-8684-fd9f68af5b14',
    type: 'no.altinn.events.digitalt-dodsbo.opprettet',
    resource: 'urn:altinn:resource:dodsbo.domstoladmin.api',
    time: '2020-02-20T08:00:06.4014168Z',
    ...overrides,
  };
}
