import { Worker } from 'node:worker_threads';
import type { ConnectionRole, ThreadError, ThreadRequest, ThreadResponse } from './thread-protocol.js';

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/**
 * One worker thread holding SQLite connections (connection-thread.ts), seen from the event loop: requests go
 * in order, each answered by a promise. The thread keeps the process alive only while a request is pending.
 * Should it die, pending requests fail, and the next request starts a new thread and opens its connections
 * again.
 */
export class SqliteThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** What each connection was opened with, to open it again on a new thread. */
  private readonly opened = new Map<number, { path: string; role: ConnectionRole }>();

  constructor(private readonly name: string) {}

  /** How many requests wait for this thread: the store sends reads to the least busy reader. */
  get queued(): number {
    return this.pending.size;
  }

  request<T>(request: ThreadRequest): Promise<T> {
    // Started first: a new thread opens again only the connections opened before this request.
    const worker = this.running();
    if (request.op === 'open') this.opened.set(request.connection, { path: request.path, role: request.role });
    if (request.op === 'close') this.opened.delete(request.connection);
    const id = this.nextId++;
    worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
      worker.postMessage({ id, request });
    });
  }

  private running(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker(this.name);
    worker.unref();
    worker.on('message', (response: ThreadResponse) => this.answer(response));
    worker.on('error', (error) => this.died(worker, error));
    worker.on('exit', (code) => this.died(worker, new Error(`the SQLite thread ${this.name} exited (code ${code})`)));
    this.worker = worker;
    // A new thread has no connections: open again the ones an earlier thread held, before anything else.
    for (const [connection, { path, role }] of this.opened) {
      const id = this.nextId++;
      this.pending.set(id, { resolve: () => {}, reject: () => {} });
      worker.postMessage({ id, request: { op: 'open', connection, path, role } satisfies ThreadRequest });
    }
    return worker;
  }

  private answer(response: ThreadResponse): void {
    const pending = this.pending.get(response.id);
    if (!pending) return;
    this.pending.delete(response.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (response.ok) pending.resolve(response.result);
    else pending.reject(revive(response.error));
  }

  private died(worker: Worker, error: Error): void {
    if (this.worker !== worker && this.worker !== undefined) return;
    this.worker = undefined;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(error);
  }
}

/** An error from the thread, with SQLite's code where it had one, so it classifies as before. */
function revive({ message, name, code }: ThreadError): Error {
  const error = new Error(message) as Error & { code?: string };
  error.name = name;
  if (code !== undefined) error.code = code;
  return error;
}

/**
 * Starts connection-thread: the compiled `.js` beside this file, or, when Herald runs from its TypeScript
 * sources (tests, `tsx`), the `.ts` through tsx's loader, which a worker does not inherit.
 */
function startWorker(name: string): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = new URL(`./connection-thread.${fromSources ? 'ts' : 'js'}`, import.meta.url);
  if (!fromSources) return new Worker(entry, { name });
  const loader = `import('tsx/esm/api').then(({ tsImport }) => tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(loader, { eval: true, name });
}
