import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/herald-process.js';

const run = promisify(execFile);
const cli = ['--import', 'tsx', 'src/cli/main.ts'];

/** The `herald` command as a user runs it, in a fresh data folder. */
function herald(args: string[], env: Record<string, string>) {
  return run(process.execPath, [...cli, ...args], { env: { ...process.env, ...env }, cwd: process.cwd() });
}

describe('the herald command', () => {
  let folder: string;
  let env: Record<string, string>;
  let server: ChildProcess;
  let base: string;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'herald-cli-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      HERALD_DATABASE: join(folder, 'data', 'herald.db'),
      PORT: String(port),
      HOST: '127.0.0.1',
      HERALD_LOG_LEVEL: 'warn',
    };
    for (const name of ['HERALD_JWT_SECRET', 'HERALD_JWT_PUBLIC_KEY', 'HERALD_JWKS_URL', 'HERALD_BASE_URL'])
      env[name] = '';
    server = spawn(process.execPath, [...cli, 'serve'], { env: { ...process.env, ...env }, stdio: 'pipe' });
    for (let attempt = 0; attempt < 100; attempt++) {
      const ready = await fetch(`${base}/ready`).catch(() => undefined);
      if (ready?.ok) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('herald serve did not become ready');
  });
  afterAll(async () => {
    if (server.exitCode === null) server.kill('SIGKILL');
    rmSync(folder, { recursive: true, force: true });
  });

  it('serve creates a development secret (owner-only) that token signs with: the README tour works', async () => {
    expect(statSync(join(folder, 'data', 'dev-jwt-secret')).mode & 0o777).toBe(0o600);
    const token = (await herald(['token', '--org', 'ttd', '--ttl', '10m'], env)).stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    const headers = { authorization: `Bearer ${token}` };
    const published = await fetch(`${base}/events/api/v1/events`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id: 'cli-tour-1',
        source: 'https://example.com/orders',
        type: 'order.created',
        resource: 'urn:altinn:resource:orders',
      }),
    });
    expect(published.status).toBe(200);
    const polled = await fetch(`${base}/events/api/v1/events?after=0&resource=urn:altinn:resource:orders`, {
      headers,
    });
    expect(polled.status).toBe(200);
    expect(((await polled.json()) as { id: string }[]).map((e) => e.id)).toEqual(['cli-tour-1']);
    expect(polled.headers.get('next')).toMatch(new RegExp(`^${base}/events/api/v1/events\\?after=`));
  });

  it('token carries the scopes asked for, and the server enforces them', async () => {
    const token = (
      await herald(['token', '--sub', 'reader', '--scope', 'altinn:events.subscribe'], env)
    ).stdout.trim();
    const refused = await fetch(`${base}/events/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(refused.status).toBe(403);
  });

  it('token --operator adds the operator scope: /me says so, and the operator routes answer it', async () => {
    const token = (await herald(['token', '--org', 'ops', '--operator'], env)).stdout.trim();
    const headers = { authorization: `Bearer ${token}` };
    const me = await fetch(`${base}/events/api/v1/me`, { headers });
    expect(await me.json()).toEqual({
      consumer: '/org/ops',
      scopes: ['altinn:events.publish', 'altinn:events.subscribe', 'herald:operator'],
      operator: true,
    });
    expect((await fetch(`${base}/events/api/v1/subscriptions?consumer=*`, { headers })).status).toBe(200);
    // The server samples its overview; right after a start it may hold no sample yet.
    const overview = await fetch(`${base}/events/api/v1/overview`, { headers });
    expect(await overview.json()).toMatchObject({ intervalSeconds: 10, samples: expect.any(Array) });
  });

  it('migrate brings the database up to date and says so', async () => {
    const { stdout } = await herald(['migrate'], env);
    expect(stdout).toMatch(/sqlite database is up to date/);
  });

  it('stops on SIGTERM after finishing in-flight work, exiting 0', async () => {
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses an invalid configuration at start, naming every variable at fault', async () => {
    const failure = await herald(['serve'], { ...env, PORT: 'eighty', HERALD_JWT_SECRET: 'short' }).catch(
      (e) => e,
    );
    expect(failure.code).toBe(1);
    expect(failure.stderr).toMatch(/PORT must be a port number/);
    expect(failure.stderr).toMatch(/HERALD_JWT_SECRET must be at least 32 bytes/);
  });

  it('explains its usage for an unknown command or option', async () => {
    const failure = await herald(['frobnicate'], env).catch((e) => e); // `publish` is a command now
    expect(failure.code).toBe(1);
    expect(failure.stderr).toMatch(/Unknown command 'frobnicate'[\s\S]*Usage: herald/);
    const badOption = await herald(['token', '--bogus'], env).catch((e) => e);
    expect(badOption.stderr).toMatch(/Usage: herald/);
  });
});
