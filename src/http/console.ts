import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem } from './problems.js';

/**
 * Serves the console (docs/console.md, console/README.md): the files `npm run build` writes to dist/console,
 * at `/console/`. One HTML page with hashed scripts and styles; the page calls the API with the token it is
 * given, so these files themselves are open, like `/docs`.
 */

export const consolePath = '/console';

/** Where `npm run build` puts the console: dist/console beside src/ or dist/ (this file is two folders down either way). */
export const builtConsoleFolder = fileURLToPath(new URL('../../dist/console', import.meta.url));

/**
 * The page may load only Herald's own files and call only Herald: no inline script or style (the build has
 * none), no other origin, no framing, no form posting anywhere.
 */
export const consoleContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The only files served, by extension; anything else under /console (a `.gz` asked for itself, a `.map`) is a 404. */
const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** Vite names every file under assets/ by its content's hash: a changed file is a new name, so it never goes stale. */
const immutable = 'public, max-age=31536000, immutable';
/** index.html names the current assets: a browser asks again every time (a 304 when unchanged). */
const revalidate = 'no-cache';

/** A path segment as Vite names files: no `..`, no hidden files, no separators or other surprises. */
const plainSegment = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** The precompressed forms the build writes beside a file (console/vite.config.ts), best first. */
const encodings = [
  { name: 'br', suffix: '.br' },
  { name: 'gzip', suffix: '.gz' },
] as const;

export interface ConsoleOptions {
  /** The built console; default dist/console. */
  readonly folder?: string | undefined;
}

/** One file as read from disk, kept while its size and modification time stay the same. */
interface CachedFile {
  readonly mtimeMs: number;
  readonly size: number;
  readonly body: Buffer;
  readonly etag: string;
}

/** `GET /console` (a redirect to `/console/`) and `GET /console/*`, left out of the OpenAPI document. */
export async function consoleRoutes(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const folder = options.folder ?? builtConsoleFolder;
  const cache = new Map<string, CachedFile>();

  /** The file's bytes and ETag, or undefined when it is not there. */
  const load = async (path: string): Promise<CachedFile | undefined> => {
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    const cached = cache.get(path);
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached;
    const body = await readFile(path);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const file = { mtimeMs: info.mtimeMs, size: info.size, body, etag };
    cache.set(path, file);
    return file;
  };

  const serve = async (request: FastifyRequest, reply: FastifyReply) => {
    const queryStart = request.url.includes('?') ? request.url.indexOf('?') : request.url.length;
    // Doubled slashes collapsed, as the router reads them (ignoreDuplicateSlashes).
    const rawPath = request.url.slice(0, queryStart).replace(/\/{2,}/g, '/');
    // Fastify routes `/console` and `/console/` alike (ignoreTrailingSlash); the page's relative asset URLs
    // need the slash. A relative Location keeps any prefix a proxy put before /console.
    if (rawPath === consolePath) return reply.code(308).header('location', `console/${request.url.slice(queryStart)}`).send();
    if (!(await load(join(folder, 'index.html')))) {
      throw new HttpProblem('notFound', `The console is not built: run npm run build (it writes ${folder}).`);
    }
    const segments = segmentsOf(rawPath.slice(consolePath.length + 1));
    if (!segments) throw notInConsole(rawPath);
    const relative = segments.length === 0 ? ['index.html'] : segments;
    const type = contentTypes[extname(relative.at(-1) as string)];
    if (!type) throw notInConsole(rawPath);
    const path = join(folder, ...relative);
    // Belt and braces: the segments cannot climb out, and a symbolic link inside may not lead out either.
    const realFolder = await realpath(folder);
    const inside = async (file: string) => (await realpath(file).catch(() => '')).startsWith(realFolder + sep);
    if (!(await inside(path))) throw notInConsole(rawPath);

    const accepted = acceptedEncodings(request.headers['accept-encoding']);
    let chosen: { file: CachedFile; encoding?: string } | undefined;
    for (const encoding of encodings) {
      if (!accepted.has(encoding.name) && !accepted.has('*')) continue;
      const variant = path + encoding.suffix;
      const file = (await inside(variant)) ? await load(variant) : undefined;
      if (file) {
        chosen = { file, encoding: encoding.name };
        break;
      }
    }
    chosen ??= { file: (await load(path)) ?? missing(rawPath) };

    const vary = reply.getHeader('vary');
    reply
      .header('content-type', type)
      .header('cache-control', relative[0] === 'assets' && relative.length > 1 ? immutable : revalidate)
      .header('etag', chosen.file.etag)
      .header('vary', vary ? `${String(vary)}, Accept-Encoding` : 'Accept-Encoding')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer');
    if (type.startsWith('text/html')) reply.header('content-security-policy', consoleContentSecurityPolicy);
    if (chosen.encoding) reply.header('content-encoding', chosen.encoding);
    if (matches(request.headers['if-none-match'], chosen.file.etag)) return reply.code(304).send();
    return reply.send(chosen.file.body);
  };

  const route = { schema: { hide: true } };
  app.get(consolePath, route, serve);
  app.get(`${consolePath}/*`, route, serve);
}

/** The decoded segments of a path under /console/, or undefined when one is not a plain file or folder name. */
function segmentsOf(path: string): string[] | undefined {
  const segments: string[] = [];
  for (const raw of path.split('/')) {
    if (raw === '') continue; // the trailing slash of /console/
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (!plainSegment.test(segment)) return undefined;
    segments.push(segment);
  }
  return segments;
}

const notInConsole = (path: string) => new HttpProblem('notFound', `There is no ${path} in the console.`);
function missing(path: string): never {
  throw notInConsole(path);
}

/** The content codings a client takes (RFC 9110 §12.5.3), leaving out those it refuses with `q=0`. */
export function acceptedEncodings(header: string | string[] | undefined): Set<string> {
  const accepted = new Set<string>();
  for (const item of (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',')) {
    const [name = '', ...parameters] = item.split(';').map((part) => part.trim().toLowerCase());
    const q = parameters.find((p) => p.startsWith('q='));
    if (name && !(q && Number(q.slice(2)) === 0)) accepted.add(name);
  }
  return accepted;
}

/** `If-None-Match` names this ETag (or is `*`); weak forms match too, as RFC 9110 §13.1.2 has it for GET. */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '') === etag;
  });
}
