// Builds the console (see README.md here for why Preact and Vite) into dist/console, which Herald serves.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
export const consoleOutDir = fileURLToPath(new URL('../dist/console', import.meta.url));

/** What is worth compressing; the server sends the `.br` or `.gz` beside a file when the client takes it. */
const compressible = /\.(?:js|css|html|svg|json|txt)$/;

/**
 * Writes each compressible file's gzip and brotli forms at their best levels once, at build, so Herald never
 * compresses on a request.
 */
function precompress(): Plugin {
  return {
    name: 'herald-precompress',
    apply: 'build',
    async closeBundle() {
      for (const entry of await readdir(consoleOutDir, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile() || !compressible.test(entry.name)) continue;
        const path = join(entry.parentPath, entry.name);
        const content = await readFile(path);
        await writeFile(`${path}.gz`, gzipSync(content, { level: 9 }));
        await writeFile(
          `${path}.br`,
          brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY } }),
        );
      }
    },
  };
}

export default defineConfig({
  root,
  // Relative asset URLs: the page works under /console/ and behind a proxy that adds a prefix.
  base: './',
  publicDir: false,
  // Preact's automatic runtime through Vite's own JSX transform (no preset plugin).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: consoleOutDir,
    emptyOutDir: true,
    // Nothing inlined as data: URLs, no polyfill injected: the CSP allows only files from Herald.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
    reportCompressedSize: false,
  },
  plugins: [precompress()],
  // `npx vite --config console/vite.config.ts` serves the pages with live reload and sends the API to a Herald
  // on port 8080 (HERALD_URL to change it): development only, Herald serves the built files.
  server: { proxy: { '/events': process.env.HERALD_URL ?? 'http://localhost:8080' } },
});
