import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTokenVerifier } from '../../src/http/auth/token-verifier.js';
import { describeEachEngine } from '../support/engines.js';
import { assembleHerald, type HeraldUnderTest } from '../support/test-app.js';

describeEachEngine('Tokens verified with a JWKS on $name', (engine) => {
  let server: Server;
  let jwksUrl: string;
  let sign: (claims: Record<string, unknown>) => Promise<string>;
  const heralds: HeraldUnderTest[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    sign = (claims) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setExpirationTime('5m').sign(privateKey);
  });
  afterAll(async () => {
    for (const herald of heralds) await herald.close();
    for (const cleanup of cleanups) await cleanup();
    await new Promise((resolve) => server.close(resolve));
  });

  async function heraldWithJwks(url: string) {
    const db = await engine.create();
    cleanups.push(() => db.destroy());
    const herald = await assembleHerald(await db.open(), { verifier: createTokenVerifier({ key: { kind: 'jwks', url } }) });
    heralds.push(herald);
    return herald;
  }
  const poll = (herald: HeraldUnderTest, token: string) =>
    herald.app.inject({
      method: 'GET',
      url: '/events/api/v1/events?after=0&resource=urn:altinn:resource:x',
      headers: { authorization: `Bearer ${token}` },
    });

  it('accepts a token signed by a key the JWKS publishes', async () => {
    const herald = await heraldWithJwks(jwksUrl);
    const response = await poll(herald, await sign({ org: 'ttd', scope: 'altinn:events.subscribe' }));
    expect(response.statusCode, response.body).toBe(200);
  });

  it('answers 503 with Retry-After, not 401, when the JWKS cannot be fetched', async () => {
    const herald = await heraldWithJwks('http://127.0.0.1:9/jwks');
    const response = await poll(herald, await sign({ org: 'ttd', scope: 'altinn:events.subscribe' }));
    expect(response.statusCode, response.body).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.json()).toMatchObject({ code: 'events:keysUnavailable' });
  });
});
