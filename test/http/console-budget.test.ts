import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtConsoleFolder } from '../../src/http/console.js';
import { engines } from '../support/engines.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/** The console's budget (issue 17): its JavaScript, compressed with gzip, at most this many bytes. */
const budgetBytes = 150 * 1024;

/** Every built file, relative to dist/console (test/support/console-build.ts built it if console/ changed). */
async function builtFiles(): Promise<string[]> {
  const entries = await readdir(builtConsoleFolder, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(builtConsoleFolder.length + 1));
}

describe('The built console (dist/console)', () => {
  it(`keeps its JavaScript within ${budgetBytes / 1024} KiB compressed with gzip`, async () => {
    const scripts = (await builtFiles()).filter((file) => file.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    let total = 0;
    for (const file of scripts) total += gzipSync(await readFile(join(builtConsoleFolder, file)), { level: 9 }).length;
    expect(total).toBeLessThanOrEqual(budgetBytes);
  });

  it('has no inline script or style and names no other origin, as its Content-Security-Policy requires', async () => {
    const html = await readFile(join(builtConsoleFolder, 'index.html'), 'utf8');
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\bsrc="\.\/assets\//);
    expect(html).not.toMatch(/<script\b[^>]*>[^<]+<\/script>/);
    expect(html).not.toMatch(/<style\b|\bstyle=|\bon[a-z]+=/i);
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
    const styles = (await builtFiles()).filter((file) => file.endsWith('.css'));
    for (const file of styles) expect(await readFile(join(builtConsoleFolder, file), 'utf8')).not.toMatch(/url\((?!["']?data:)|@import/);
  });

  it('writes a gzip and a brotli form beside each script, style and page', async () => {
    const files = await builtFiles();
    for (const file of files.filter((f) => /\.(js|css|html)$/.test(f))) {
      expect(files).toContain(`${file}.gz`);
      expect(files).toContain(`${file}.br`);
    }
  });
});

describe('The built console, served', () => {
  let herald: TestApp;
  beforeAll(async () => {
    herald = await createTestApp(engines[0]!);
  });
  afterAll(async () => herald.close());

  it('serves the page and every file it names, with their content types', async () => {
    const page = await herald.app.inject({ url: '/console/' });
    expect(page.statusCode).toBe(200);
    const named = [...page.body.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((m) => m[1] as string);
    expect(named.length).toBeGreaterThanOrEqual(2);
    for (const file of named) {
      const answer = await herald.app.inject({ url: `/console/${file}`, headers: { 'accept-encoding': 'br' } });
      expect(answer.statusCode, file).toBe(200);
      expect(answer.headers['content-type'], file).toBe(file.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8');
      expect(answer.headers['content-encoding'], file).toBe('br');
      expect(answer.headers['cache-control'], file).toBe('public, max-age=31536000, immutable');
    }
  });
});
