import type { EventAttributes } from '../event-repository.js';
import type { LogReader } from '../log-reader.js';
import type { LogPage, LogPageBytes, LogQuery } from '../store.js';
import type { ReadTarget, ReplicaReads } from './replica-reads.js';

/**
 * One poll's or one stream's reads with replicas (replica-reads.ts). They keep to one server, so a head and the
 * page read after it come from the same log: a page that is not full then holds every match up to that head,
 * as on the primary. The reader remembers the highest head it handed out (`floor`): should its replica fail,
 * the read goes on only on a server verified to have at least that much, so a position it answered is never
 * taken back.
 *
 * What a replica does not have yet, the primary answers: an event id in a cursor, its attributes, a removed
 * event's key. So a cursor the primary knows is never "unknown" because a replica is behind.
 */
export class ReplicaReader implements LogReader {
  private target: ReadTarget | undefined;
  private floor = 0;

  readonly events = {
    attributes: (seqs: readonly number[]) => this.attributes(seqs),
  };
  readonly retention = {
    removedThrough: () => this.onTarget((reader) => reader.retention.removedThrough()),
    removedEventPosition: (id: string, source?: string) => this.orPrimary((reader) => reader.retention.removedEventPosition(id, source)),
  };

  constructor(
    private readonly reads: ReplicaReads,
    /** A stream: it reads at least as far as the primary had announced when it was woken. */
    private readonly follows: boolean,
  ) {}

  async headPosition(atLeast = 0): Promise<number> {
    const announced = this.follows ? await this.reads.announcedHead() : 0;
    const wanted = Math.max(atLeast, announced, this.floor);
    // A cursor the client gave is not vouched for: beyond the primary's head it is answered as beyond the log.
    const { target, head } = await this.reads.reaching(this.target, wanted, wanted <= this.floor || wanted <= announced);
    this.target = target;
    this.floor = Math.max(this.floor, head);
    return head;
  }

  readLog(query: LogQuery): Promise<LogPage> {
    return this.onTarget((reader) => reader.readLog(query), true);
  }

  readLogBytes(query: LogQuery): Promise<LogPageBytes> {
    return this.onTarget((reader) => reader.readLogBytes(query), true);
  }

  findEventPosition(id: string, source?: string): Promise<number | undefined> {
    return this.orPrimary((reader) => reader.findEventPosition(id, source));
  }

  private async attributes(seqs: readonly number[]): Promise<Map<number, EventAttributes>> {
    const found = await this.onTarget((reader) => reader.events.attributes(seqs));
    const missing = seqs.filter((seq) => !found.has(seq));
    if (missing.length === 0 || this.target === this.reads.primary) return found;
    for (const [seq, attributes] of await this.reads.primary.reader.events.attributes(missing)) found.set(seq, attributes);
    return found;
  }

  /** Runs `read` on this reader's server; a replica that fails is passed over and the read made elsewhere. */
  private async onTarget<T>(read: (reader: LogReader) => Promise<T>, page = false): Promise<T> {
    for (;;) {
      const target = (this.target ??= this.reads.pick());
      try {
        const result = await read(target.reader);
        if (page) this.reads.served(target);
        return result;
      } catch (error) {
        if (!target.replica) throw error;
        this.reads.failed(target);
        // Elsewhere, on a server found to have everything this reader has already answered from.
        this.target = (await this.reads.reaching(undefined, this.floor, true)).target;
      }
    }
  }

  /** `read` on this reader's server; when a replica finds nothing, the primary, which may be further on. */
  private async orPrimary<T>(read: (reader: LogReader) => Promise<T | undefined>): Promise<T | undefined> {
    const found = await this.onTarget(read);
    if (found !== undefined || this.target === this.reads.primary) return found;
    return read(this.reads.primary.reader);
  }
}
