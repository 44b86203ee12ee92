import type { FirstEventProbe, LogFilter } from '../domain/replay.js';
import { buildExaminationEnd, buildLogQuery } from './log-query-sql.js';
import type { SqlExecutor } from './sql-executor.js';

/** The attributes authorization looks at. */
export interface EventAttributes {
  readonly resource: string;
  readonly subject: string | null;
  readonly alternativesubject: string | null;
}

/** An event of a range of the log, with what authorization needs to know of it. */
export interface RangeEvent extends EventAttributes {
  readonly seq: number;
  /** The stored event (JSON text), when the read asked for it (`readRange`'s `withPayload`). */
  readonly payload?: string;
}

/** One bounded piece of a range of the log (`EventRepository.readRange`). */
export interface RangePiece {
  /** The events that pass the filter, in log order. */
  readonly events: RangeEvent[];
  /** Every event up to this position has been looked at: the next piece starts after it. */
  readonly reached: number;
}

/** Reads of the event log that both engines share. */
export class EventRepository {
  /** The dialect with `$n` placeholders, which the executor binds on either engine. */
  private readonly numbered;

  /**
   * @param keyTable where (source, id) is unique: `events` itself, or on PostgreSQL, whose log is partitioned,
   * `event_keys`, whose rows outlive removed events (so only keys of events still stored count here)
   */
  constructor(
    private readonly sql: SqlExecutor,
    private readonly keyTable: 'events' | 'event_keys' = 'events',
  ) {
    this.numbered = { ...sql, placeholder: (position: number) => `$${position}` };
  }

  /** See `Store.findEventPosition`. */
  async position(id: string, source?: string): Promise<number | undefined> {
    const stored = this.keyTable === 'events' ? '' : ' AND EXISTS (SELECT 1 FROM events e WHERE e.seq = k.seq)';
    const [row] =
      source === undefined
        ? await this.sql.all<{ seq: number | null }>(`SELECT min(k.seq) AS seq FROM ${this.keyTable} k WHERE k.id = $1${stored}`, [id])
        : await this.sql.all<{ seq: number | null }>(
            `SELECT k.seq FROM ${this.keyTable} k WHERE k.source = $1 AND k.id = $2${stored}`,
            [source, id],
          );
    return row?.seq ?? undefined;
  }

  /**
   * The position just before the newest `count` events up to `atMost` (0 when the log holds no more than that): a
   * read after it through `atMost` sees exactly them. Examines `count` + 1 entries of the log's key.
   */
  async beforeNewest(count: number, atMost: number): Promise<number> {
    const [row] = await this.sql.all<{ seq: number }>(
      'SELECT seq FROM events WHERE seq <= $2 ORDER BY seq DESC LIMIT 1 OFFSET $1',
      [count, atMost],
    );
    return row ? Number(row.seq) : 0;
  }

  /** See `Store.headPosition`. */
  async head(): Promise<number> {
    const [row] = await this.sql.all<{ seq: number | null }>('SELECT max(seq) AS seq FROM events', []);
    return row?.seq ?? 0;
  }

  /** The resource and subjects of events by position, for authorizing what a reader is shown. */
  async attributes(seqs: readonly number[]): Promise<Map<number, EventAttributes>> {
    if (seqs.length === 0) return new Map();
    const rows = await this.sql.all<EventAttributes & { seq: number }>(
      `SELECT seq, resource, subject, alternativesubject FROM events WHERE ${this.sql.inList('seq', 1)}`,
      [seqs],
    );
    return new Map(rows.map(({ seq, ...attributes }) => [seq, attributes]));
  }

  /** The first stored event from position `atLeast` up to `atMost`, and when it was stored (a replay's `from`). */
  readonly firstAtOrAfter: FirstEventProbe = async (atLeast, atMost) => {
    const [row] = await this.sql.all<{ seq: number; storedAt: number | Date }>(
      'SELECT seq, registered_at AS "storedAt" FROM events WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT 1',
      [atLeast, atMost],
    );
    if (!row) return undefined;
    // Epoch milliseconds on SQLite; a timestamptz, which the driver reads as a Date, on PostgreSQL.
    return { seq: Number(row.seq), storedAt: row.storedAt instanceof Date ? row.storedAt.getTime() : Number(row.storedAt) };
  };

  /**
   * One bounded piece of a range of the log (a replay's): the events after `afterSeq` and up to `throughSeq`
   * that pass `filter`, at most `limit` of them, examining at most `examine` rows (the log's, or the equality
   * filter's index entries: see buildExaminationEnd), in two statements of a few milliseconds each. The range
   * lies wholly in the committed log, so no snapshot need hold them together.
   */
  async readRange(
    filter: LogFilter,
    afterSeq: number,
    throughSeq: number,
    examine: number,
    limit: number,
    withPayload = false,
  ): Promise<RangePiece> {
    const query = { ...filter, afterSeq, limit };
    const bound = await this.examinationBound(filter, afterSeq, throughSeq, examine);
    if (bound <= afterSeq) return { events: [], reached: Math.max(afterSeq, throughSeq) };
    // The payload for filter expressions, which may read any attribute.
    const columns = `seq, resource, subject, alternativesubject${withPayload ? `, ${this.sql.payloadOf('events')} AS payload` : ''}`;
    const read = buildLogQuery(query, this.numbered, bound, columns);
    const events = (await this.sql.all<RangeEvent>(read.sql, read.parameters)).map((e) => ({ ...e, seq: Number(e.seq) }));
    const last = events.at(-1);
    return { events, reached: events.length === limit && last ? last.seq : bound };
  }

  /**
   * Counts what `readRange` would return with a limit of `examine`, without returning the rows: where no policy
   * decides per event, a count the database answers from the filter's index (a dry run of a large range).
   */
  async countRange(filter: LogFilter, afterSeq: number, throughSeq: number, examine: number): Promise<{ count: number; reached: number }> {
    const bound = await this.examinationBound(filter, afterSeq, throughSeq, examine);
    if (bound <= afterSeq) return { count: 0, reached: Math.max(afterSeq, throughSeq) };
    const read = buildLogQuery({ ...filter, afterSeq, limit: examine }, this.numbered, bound, 'seq');
    const [row] = await this.sql.all<{ n: number | string }>(`SELECT count(*) AS n FROM (${read.sql}) AS page`, read.parameters);
    return { count: Number(row?.n ?? 0), reached: bound };
  }

  /** Where a read of at most `examine` rows after `afterSeq` ends, and never after `throughSeq`. */
  private async examinationBound(filter: LogFilter, afterSeq: number, throughSeq: number, examine: number): Promise<number> {
    const end = buildExaminationEnd({ ...filter, afterSeq, limit: examine }, this.numbered, examine);
    const [row] = await this.sql.all<{ seq: number | null }>(end.sql, end.parameters);
    return row?.seq === null || row?.seq === undefined ? throughSeq : Math.min(Number(row.seq), throughSeq);
  }
}
