import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nonPublicEndpointReason, refuseNonPublicEndpoint } from '../../src/delivery/endpoint-guard.js';
import { WebhookSender } from '../../src/delivery/webhook-sender.js';
import { describeEachEngine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { createTestApp, defaultLimits, type TestApp } from '../support/test-app.js';

const subscriptionsPath = '/events/api/v1/subscriptions';
const resourceFilter = 'urn:altinn:resource:dodsbo.domstoladmin.api';

/** One address from each special-purpose range a webhook may not reach (docs/security.md). */
const specialAddresses = [
  '0.1.2.3',
  '100.64.0.1',
  '192.0.0.9',
  '192.0.2.1',
  '192.88.99.1',
  '198.18.0.1',
  '198.51.100.7',
  '203.0.113.9',
  '240.0.0.1',
  '255.255.255.255',
  '::',
  '::7f00:1',
  '::ffff:7f00:1',
  '64:ff9b::a00:1',
  '64:ff9b::7f00:1',
  '64:ff9b:1::a00:1',
  '100::1',
  '100:0:0:1::1',
  '2001::1',
  '2001:0:4136:e378:8000:63bf:3fff:fdd2',
  '2001:2::1',
  '2001:db8::1',
  '2002:7f00:1::1',
  '2002:a00:1::',
  '3fff::1',
  '4000::1',
  '5f00::1',
  'fc00::1',
  'fe80::1',
  'fec0::1',
  'ff02::1',
];

const literal = (address: string) => (address.includes(':') ? `[${address}]` : address);

/** A resolver that answers from a fixed table, as a hosts file would: names an attacker could point anywhere. */
const hostsTable = new Map(specialAddresses.map((address, i) => [`special-${i}.test`, address]));

describeEachEngine('Webhook targets on $name, with private endpoints refused', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(engine, defaultLimits, { allowPrivateEndpoints: false });
  });
  afterAll(async () => {
    await t.close();
  });
  const subscribe = (endPoint: string) =>
    t.app.inject({ method: 'POST', url: subscriptionsPath, headers: t.auth, payload: { endPoint, resourceFilter } });

  it('refuses a host name that resolves to loopback without saying what it resolved to', async () => {
    const response = await subscribe('https://localhost:8443/hook');
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().errors.endPoint).toContain(nonPublicEndpointReason);
    expect(response.body).not.toMatch(/127\.0\.0\.1|::1|7f00/);
  });

  it.each(specialAddresses)('refuses the special-purpose address %s written in the endpoint', async (address) => {
    const response = await subscribe(`https://${literal(address)}/hook`);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toMatchObject({ code: 'events:invalidRequest' });
    expect(response.json().errors.endPoint).toContain(nonPublicEndpointReason);
  });

  it.each(['93.184.215.14', '192.0.3.1', '2a00:1450:4001:82b::200e', '64:ff9b::808:808', '::ffff:808:808'])(
    'still accepts the public address %s',
    async (address) => {
      const response = await subscribe(`https://${literal(address)}/hook`);
      expect(response.statusCode, response.body).toBe(201);
    },
  );
});

describe('Webhook targets behind a host name', () => {
  const resolve = async (host: string) => [hostsTable.get(host) ?? '93.184.215.14'];

  it.each([...hostsTable])('refuses %s, which resolves to %s, when subscribing', async (host) => {
    expect(await refuseNonPublicEndpoint(new URL(`https://${host}/hook`), resolve)).toBe(nonPublicEndpointReason);
  });

  it('accepts a host name that resolves to a public address', async () => {
    expect(await refuseNonPublicEndpoint(new URL('https://public.test/hook'), resolve)).toBeUndefined();
  });
});

describe('Webhook targets checked again when connecting (DNS rebinding)', () => {
  let receiver: Receiver;
  let sender: WebhookSender;
  beforeAll(async () => {
    receiver = await startReceiver();
    // Every name "rebinds" to its special address by the time a delivery connects.
    sender = new WebhookSender({
      timeoutMs: 1_000,
      allowPrivateAddresses: false,
      lookup: ((hostname: string, _options: unknown, callback: (e: null, a: LookupAddress[]) => void) => {
        const address = hostsTable.get(hostname) ?? '127.0.0.1';
        callback(null, [{ address, family: address.includes(':') ? 6 : 4 }]);
      }) as never,
    });
  });
  afterAll(async () => {
    await sender.close();
    await receiver.close();
  });

  it.each([...hostsTable])('does not dial %s, which now resolves to %s, and names no address', async (host) => {
    const response = await sender.send(`https://${host}:${new URL(receiver.url).port}/hook`, {}, '{}');
    expect(response).toMatchObject({ kind: 'failed', errorKind: 'blocked', error: nonPublicEndpointReason });
  });

  it.each(specialAddresses)('does not dial the special-purpose address %s written in the endpoint', async (address) => {
    const response = await sender.send(`https://${literal(address)}:9/hook`, {}, '{}');
    expect(response).toMatchObject({ kind: 'failed', errorKind: 'blocked', error: nonPublicEndpointReason });
  });

  it('does not dial a name that resolves to loopback, and its error names no address', async () => {
    const response = await sender.send(`http://localhost.test:${new URL(receiver.url).port}/hook`, {}, '{}');
    expect(response).toMatchObject({ kind: 'failed', errorKind: 'blocked', error: nonPublicEndpointReason });
    expect(receiver.received).toHaveLength(0);
  });
});
