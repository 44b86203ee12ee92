import type { SqliteThread } from './sqlite-thread.js';
import { sqliteThreads } from './sqlite-threads.js';
import type { StatementResult, ThreadRequest } from './thread-protocol.js';

/** A request before it names its connection. */
type Unplaced<R> = R extends unknown ? Omit<R, 'connection'> : never;
type Request = Unplaced<ThreadRequest>;

/** A connection: which thread holds it, and its number there. */
interface Placed {
  readonly thread: SqliteThread;
  readonly connection: number;
}

/** Numbers are unique in the process: several stores (tests) share the threads. */
let lastConnection = 0;

/** Statement texts kept as known writes; bounded, as filters make statements without end. */
const maxKnownWrites = 1_024;

/**
 * One store's connections to its file, on the process's SQLite threads (sqlite-threads.ts): a writer, the
 * readers, and a maintenance connection. Reads go to the reader with the fewest requests waiting; a statement
 * that turns out to write is sent to the writer, and remembered.
 */
export class SqliteConnections {
  private readonly knownWrites = new Set<string>();

  private constructor(
    private readonly writer: Placed,
    private readonly readers: readonly Placed[],
    private readonly maintenance: Placed | undefined,
  ) {}

  /** Opens the writer first (so the log's files exist), then the others. */
  static async open(path: string, readerCount: number, withMaintenance: boolean): Promise<SqliteConnections> {
    const place = async (thread: SqliteThread, role: 'writer' | 'reader' | 'maintenance'): Promise<Placed> => {
      const connection = ++lastConnection;
      await thread.request({ op: 'open', connection, path, role });
      return { thread, connection };
    };
    const writer = await place(sqliteThreads.writer, 'writer');
    const opened = await Promise.allSettled([
      ...sqliteThreads.readers(readerCount).map((thread) => place(thread, 'reader')),
      ...(withMaintenance ? [place(sqliteThreads.maintenance, 'maintenance')] : []),
    ]);
    const placed = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const failed = opened.find((o) => o.status === 'rejected');
    if (failed) {
      await Promise.allSettled([writer, ...placed].map((p) => p.thread.request({ op: 'close', connection: p.connection })));
      throw failed.reason;
    }
    const maintenance = withMaintenance ? placed.pop() : undefined;
    return new SqliteConnections(writer, placed, maintenance);
  }

  write<T>(request: Request): Promise<T> {
    return send(this.writer, request);
  }

  read<T>(request: Request): Promise<T> {
    return send(this.leastBusyReader() ?? this.writer, request);
  }

  maintain<T>(request: Request): Promise<T> {
    return send(this.maintenance ?? this.writer, request);
  }

  /** Runs one statement where it belongs: a read on a reader, a write on the writer. */
  async statement(sql: string, parameters: Readonly<Record<string, unknown>>): Promise<StatementResult> {
    const reader = this.knownWrites.has(sql) ? undefined : this.leastBusyReader();
    if (reader) {
      const result = await send<StatementResult>(reader, { op: 'all', sql, parameters });
      if (!result.notReadonly) return result;
      if (this.knownWrites.size >= maxKnownWrites) this.knownWrites.clear();
      this.knownWrites.add(sql);
    }
    return send(this.writer, { op: 'all', sql, parameters });
  }

  /** Closes the readers and the maintenance connection, then the writer: the last one checkpoints. */
  async close(): Promise<void> {
    const close = (p: Placed) => p.thread.request({ op: 'close', connection: p.connection });
    await Promise.allSettled([...this.readers, ...(this.maintenance ? [this.maintenance] : [])].map(close));
    await close(this.writer).catch(() => {});
  }

  private leastBusyReader(): Placed | undefined {
    let best: Placed | undefined;
    for (const reader of this.readers) if (!best || reader.thread.queued < best.thread.queued) best = reader;
    return best;
  }
}

function send<T>({ thread, connection }: Placed, request: Request): Promise<T> {
  return thread.request<T>({ ...request, connection } as ThreadRequest);
}
