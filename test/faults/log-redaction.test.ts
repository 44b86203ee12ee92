import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SubscriptionRegistry } from '../../src/delivery/subscription-registry.js';
import { buildApp } from '../../src/http/app.js';
import { createTokenVerifier } from '../../src/http/auth/token-verifier.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { defaultLimits } from '../support/test-app.js';
import { testSecret, testToken } from '../support/tokens.js';

const pollPath = '/events/api/v1/events';
const resource = 'urn:altinn:resource:dodsbo.domstoladmin.api';
/** Personal numbers: none may reach a log line, whichever way a poll's query spells them. */
const subjects = ['16069412345', '01017012345', '02028012345', '03039012345', '04049012345', '05059012345', '06069012345'];

describeEachEngine('Request logs on $name', (engine) => {
  const lines: string[] = [];
  let db: TestDatabase;
  let registry: SubscriptionRegistry;
  let app: FastifyInstance;
  let authorization: string;

  beforeAll(async () => {
    db = await engine.create();
    const store = await db.open();
    registry = new SubscriptionRegistry(store);
    await registry.start();
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    app = await buildApp({
      store,
      verifier: createTokenVerifier({ key: { kind: 'secret', secret: testSecret } }),
      limits: defaultLimits,
      delivery: { registry, wake: () => {}, allowPrivateEndpoints: true },
      logger: { level: 'trace', stream },
    });
    authorization = `Bearer ${await testToken()}`;
  });
  afterAll(async () => {
    await app?.close();
    registry?.stop();
    await db?.destroy();
  });

  it('carry no subject or alternative subject from a poll query, and keep the rest of the URL', async () => {
    const [a, b, c, d, e, f, g] = subjects;
    const queries = [
      `after=0&resource=${resource}&subject=/person/${a}`,
      `subject=%2Fperson%2F${b}&after=0&resource=${resource}`,
      `after=0&resource=${resource}&alternativesubject=/person/${c}`,
      // Spellings that reach the same parameter, or that Herald ignores but a log would still repeat.
      `after=0&resource=${resource}&%73ubject=/person/${d}`,
      `after=0&resource=${resource}&Subject=/person/${e}&type=x`,
      // Refused (both subjects), so logged at a different level with an error.
      `after=0&resource=${resource}&subject=/person/${f}&alternativesubject=/person/${f}`,
    ];
    for (const query of queries) {
      const response = await app.inject({ method: 'GET', url: `${pollPath}?${query}`, headers: { authorization } });
      expect(response.statusCode, response.body).toBeLessThan(500);
    }
    // A path that is not there, asked without a token: answered early, logged all the same.
    await app.inject({ method: 'GET', url: `${pollPath}/nowhere?subject=/person/${g}` });
    const log = lines.join('');
    for (const subject of subjects) expect(log).not.toContain(subject);
    const urls = lines.map((line) => JSON.parse(line) as { req?: { url?: string } }).flatMap((l) => l.req?.url ?? []);
    expect(urls).toHaveLength(queries.length + 1);
    expect(urls[0]).toBe(`${pollPath}?after=0&resource=${resource}&subject=[redacted]`);
    expect(urls[4]).toBe(`${pollPath}?after=0&resource=${resource}&Subject=[redacted]&type=x`);
  });
});
