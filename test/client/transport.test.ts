// What the transport does with answers a proxy in front of Herald gives: no Herald needed, the proxy is a
// `fetch` that answers as nginx would while Herald behind it restarts.
import { expect, it } from 'vitest';
import { HeraldClient, HeraldProblemError, type RetryInfo } from '../../packages/client/src/index.js';

function behindProxy(gatewayErrors: number, answer: () => Response) {
  const seen: { url: string; authorization: string | null }[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    seen.push({ url: String(input), authorization: new Headers(init?.headers).get('authorization') });
    if (seen.length <= gatewayErrors) return new Response('<html>502 Bad Gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } });
    return answer();
  };
  return { fetch: fetch as typeof globalThis.fetch, seen };
}

it("a proxy's 502 is retried for a read, with a fresh token on every try, and ends in the answer", async () => {
  const proxy = behindProxy(2, () => Response.json({ id: 12, status: 'active' }));
  const retries: RetryInfo[] = [];
  let tokens = 0;
  const client = new HeraldClient({
    baseUrl: 'https://herald.example/events/api/v1/',
    token: () => `token-${++tokens}`,
    fetch: proxy.fetch,
    retry: { minDelayMs: 1 },
    onRetry: (info) => retries.push(info),
  });
  expect(await client.subscriptions.get(12)).toEqual({ id: 12, status: 'active' });
  expect(proxy.seen.map((s) => s.url)).toEqual(Array(3).fill('https://herald.example/events/api/v1/subscriptions/12'));
  expect(proxy.seen.map((s) => s.authorization)).toEqual(['Bearer token-1', 'Bearer token-2', 'Bearer token-3']);
  expect(retries.map((r) => r.reason)).toEqual([502, 502]);
});

it("a proxy's 502 is not retried for a call whose repeat has an effect (a secret rotation), and reads as a problem", async () => {
  const proxy = behindProxy(1, () => Response.json({}));
  const client = new HeraldClient({ baseUrl: 'https://herald.example', fetch: proxy.fetch, retry: { minDelayMs: 1 } });
  const error = await client.subscriptions.rotateSecret(12).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(HeraldProblemError);
  expect(error).toMatchObject({ status: 502, code: undefined, detail: '<html>502 Bad Gateway</html>' });
  expect(proxy.seen).toHaveLength(1);
});
