import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTokenVerifier } from '../../src/http/auth/token-verifier.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { assembleHerald, type HeraldUnderTest } from '../support/test-app.js';

/** How old a fetched key set may be before tokens it verified are checked against a fresh one. */
const maxAgeMs = 1_000;

describeEachEngine('JWKS key removal honoured by the token cache on $name', (engine) => {
  let server: Server;
  let published: JWK[] = [];
  let fetches = 0;
  const signers = new Map<string, (claims: Record<string, unknown>) => Promise<string>>();
  const jwks = new Map<string, JWK>();
  let db: TestDatabase;
  let herald: HeraldUnderTest;

  beforeAll(async () => {
    for (const kid of ['k1', 'k2']) {
      const { publicKey, privateKey } = await generateKeyPair('RS256');
      jwks.set(kid, { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' });
      signers.set(kid, (claims) =>
        new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).setExpirationTime('10m').sign(privateKey),
      );
    }
    server = createServer((_request, response) => {
      fetches++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    db = await engine.create();
    herald = await assembleHerald(await db.open(), { verifier: createTokenVerifier({ key: { kind: 'jwks', url, maxAgeMs } }) });
  });
  afterAll(async () => {
    await herald?.close();
    await db?.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const sign = (kid: string, org: string) => signers.get(kid)!({ org, scope: 'altinn:events.subscribe' });
  const poll = async (token: string) =>
    (
      await herald.app.inject({
        method: 'GET',
        url: '/events/api/v1/events?after=0&resource=urn:altinn:resource:x',
        headers: { authorization: `Bearer ${token}` },
      })
    ).statusCode;

  it('refuses a cached token once its key has left the JWKS, and keeps the others', async () => {
    published = [jwks.get('k1')!, jwks.get('k2')!];
    const removed = await sign('k1', 'alpha');
    const kept = await sign('k2', 'beta');
    for (let i = 0; i < 20; i++) {
      expect(await poll(removed)).toBe(200);
      expect(await poll(kept)).toBe(200);
    }
    // Remembered: twenty requests each did not fetch the key set twenty times.
    expect(fetches).toBe(1);

    published = [jwks.get('k2')!];
    await sleep(maxAgeMs + 500);
    expect(await poll(removed)).toBe(401);
    expect(await poll(kept)).toBe(200);
    expect(await poll(await sign('k1', 'gamma'))).toBe(401);
  });
});
