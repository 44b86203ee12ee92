import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptedEncodings, consoleContentSecurityPolicy } from '../../src/http/console.js';
import { describeEachEngine } from '../support/engines.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/**
 * A request sent exactly as written: fetch would normalize `..` out of the path and decompress the body,
 * hiding what the server did.
 */
function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sent = request({ host: '127.0.0.1', port, path, method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    sent.on('error', reject);
    sent.end();
  });
}

const index = '<!doctype html><title>Console</title><script type="module" src="./assets/app-1a2b3c4d.js"></script>';
const script = `console.log(${JSON.stringify('x'.repeat(2000))});`;
const secret = 'top secret: outside the console folder';

/** A built console of known files, with a secret beside it that no request may reach. */
async function fixture(): Promise<{ root: string; folder: string }> {
  const root = await mkdtemp(join(tmpdir(), 'herald-console-'));
  const folder = join(root, 'console');
  await mkdir(join(folder, 'assets'), { recursive: true });
  await writeFile(join(root, 'secret.txt'), secret);
  await writeFile(join(folder, 'index.html'), index);
  await writeFile(join(folder, 'assets', 'app-1a2b3c4d.js'), script);
  await writeFile(join(folder, 'assets', 'app-1a2b3c4d.js.gz'), gzipSync(script));
  await writeFile(join(folder, 'assets', 'app-1a2b3c4d.js.br'), brotliCompressSync(script));
  await writeFile(join(folder, 'assets', 'app-1a2b3c4d.css'), 'body { margin: 0 }');
  await writeFile(join(folder, '.hidden.txt'), secret);
  // Links inside the folder that lead out of it: a file, and a compressed form of a real file.
  await symlink(join(root, 'secret.txt'), join(folder, 'escape.txt'));
  await symlink(join(root, 'secret.txt'), join(folder, 'assets', 'app-1a2b3c4d.css.br'));
  return { root, folder };
}

describeEachEngine('The console at /console', (engine) => {
  let herald: TestApp;
  let port: number;
  let root: string;
  beforeAll(async () => {
    const built = await fixture();
    root = built.root;
    herald = await createTestApp(engine, undefined, { console: { folder: built.folder } });
    await herald.app.listen({ port: 0, host: '127.0.0.1' });
    port = (herald.app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await herald.close();
    await rm(root, { recursive: true, force: true });
  });

  it('redirects /console to /console/ (the page loads its files relative to it), relatively and keeping the query', async () => {
    const answer = await get(port, '/console');
    expect(answer.status).toBe(308);
    expect(answer.headers.location).toBe('console/');
    expect(new URL(answer.headers.location as string, `http://127.0.0.1:${port}/console`).pathname).toBe('/console/');
    expect((await get(port, '/console?x=1')).headers.location).toBe('console/?x=1');
    expect((await get(port, '//console//assets//app-1a2b3c4d.js')).body.toString()).toBe(script);
  });

  it('serves index.html at /console/ with the strict CSP, nosniff, no referrer, revalidated on every load', async () => {
    for (const path of ['/console/', '/console/index.html']) {
      const answer = await get(port, path);
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(answer.headers['content-security-policy']).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
          "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      );
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['referrer-policy']).toBe('no-referrer');
      expect(answer.headers['cache-control']).toBe('no-cache');
      expect(answer.headers.etag).toMatch(/^"[\w-]+"$/);
      expect(answer.body.toString()).toBe(index);
    }
    expect(consoleContentSecurityPolicy).not.toMatch(/unsafe|\*/);
  });

  it('serves hashed assets with their content type, cached for a year as immutable', async () => {
    const js = await get(port, '/console/assets/app-1a2b3c4d.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['x-content-type-options']).toBe('nosniff');
    expect(js.headers['content-encoding']).toBeUndefined();
    expect(js.body.toString()).toBe(script);
    const css = await get(port, '/console/assets/app-1a2b3c4d.css');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('sends the precompressed brotli or gzip form the client takes, and says the answer varies by it', async () => {
    const br = await get(port, '/console/assets/app-1a2b3c4d.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).toString()).toBe(script);
    expect(br.headers.vary).toContain('Accept-Encoding');
    const gzip = await get(port, '/console/assets/app-1a2b3c4d.js', { 'accept-encoding': 'br;q=0, gzip' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gzip.body).toString()).toBe(script);
    expect(gzip.headers.etag).not.toBe(br.headers.etag);
    // No compressed form on disk (its .br a link leading out of the folder): the file as it is.
    const css = await get(port, '/console/assets/app-1a2b3c4d.css', { 'accept-encoding': 'br, gzip' });
    expect(css.headers['content-encoding']).toBeUndefined();
    expect(css.body.toString()).toBe('body { margin: 0 }');
  });

  it('answers 304 without a body when the ETag has not changed (strong or weak)', async () => {
    const first = await get(port, '/console/');
    const etag = first.headers.etag as string;
    for (const tag of [etag, `W/${etag}`, `"other", ${etag}`]) {
      const again = await get(port, '/console/', { 'if-none-match': tag });
      expect(again.status).toBe(304);
      expect(again.body.length).toBe(0);
      expect(again.headers.etag).toBe(etag);
    }
    expect((await get(port, '/console/', { 'if-none-match': '"other"' })).status).toBe(200);
  });

  it('answers HEAD with the headers and no body', async () => {
    const head = await get(port, '/console/', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(head.body.length).toBe(0);
  });

  it('never serves a file outside the folder, a hidden file or a compressed form by name: a 404 problem', async () => {
    const attempts = [
      '/console/../secret.txt',
      '/console/assets/../../secret.txt',
      '/console/%2e%2e/secret.txt',
      '/console/%2E%2E/secret.txt',
      '/console/assets/%2e%2e/%2e%2e/secret.txt',
      '/console/..%2fsecret.txt',
      '/console/%2e%2e%2fsecret.txt',
      '/console/..%5csecret.txt',
      '/console/assets/..%5c..%5csecret.txt',
      '/console/%252e%252e/secret.txt',
      '/console//../secret.txt',
      '/console/escape.txt',
      '/console/.hidden.txt',
      '/console/%2ehidden.txt',
      '/console/secret.txt%00.html',
      '/console/%E0%A4%A.js',
      '/console/%zz.js',
      '/console/assets/app-1a2b3c4d.js.gz',
      '/console/assets/app-1a2b3c4d.js.br',
      '/console/assets',
      '/console/nothing.js',
      `/console/${encodeURIComponent(root)}/secret.txt`,
    ];
    for (const path of attempts) {
      const answer = await get(port, path);
      expect(answer.body.toString(), path).not.toContain('top secret');
      expect([400, 404], path).toContain(answer.status);
      expect(answer.headers['content-type'], path).toBe('application/problem+json; charset=utf-8');
    }
  });

  it('is left out of the OpenAPI document', async () => {
    const document = (await (await fetch(`http://127.0.0.1:${port}/events/api/v1/openapi.json`)).json()) as { paths: object };
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/console'))).toEqual([]);
  });
});

describeEachEngine('The console, not built or switched off', (engine) => {
  let missing: TestApp;
  let off: TestApp;
  beforeAll(async () => {
    missing = await createTestApp(engine, undefined, { console: { folder: join(tmpdir(), 'herald-console-never-built') } });
    off = await createTestApp(engine, undefined, { console: false });
  });
  afterAll(async () => {
    await missing.close();
    await off.close();
  });

  it('says to run npm run build when the built folder is missing, rather than failing', async () => {
    for (const url of ['/console/', '/console/index.html', '/console/assets/app.js']) {
      const answer = await missing.app.inject({ url });
      expect(answer.statusCode).toBe(404);
      expect(answer.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(answer.json().detail).toMatch(/The console is not built: run npm run build/);
    }
  });

  it('is not served at all with HERALD_CONSOLE=off: /console is an unknown path', async () => {
    for (const url of ['/console', '/console/', '/console/index.html']) {
      const answer = await off.app.inject({ url });
      expect(answer.statusCode).toBe(404);
      expect(answer.json().detail).toBe(`There is no GET ${url} here.`);
    }
  });
});

describe('acceptedEncodings', () => {
  it('reads the codings a client takes, leaving out those refused with q=0', () => {
    expect([...acceptedEncodings('gzip, deflate, br')]).toEqual(['gzip', 'deflate', 'br']);
    expect([...acceptedEncodings('br;q=0, GZIP;q=0.5')]).toEqual(['gzip']);
    expect([...acceptedEncodings(undefined)]).toEqual([]);
    expect([...acceptedEncodings(['gzip', 'br'])]).toEqual(['gzip', 'br']);
  });
});
