import type { SqlExecutor } from './sql-executor.js';

/** The attributes authorization looks at. */
export interface EventAttributes {
  readonly resource: string;
  readonly subject: string | null;
  readonly alternativesubject: string | null;
}

/** Reads of the event log that both engines share. */
export class EventRepository {
  /**
   * @param keyTable where (source, id) is unique: `events` itself, or on PostgreSQL, whose log is partitioned,
   * `event_keys`, whose rows outlive removed events (so only keys of events still stored count here)
   */
  constructor(
    private readonly sql: SqlExecutor,
    private readonly keyTable: 'events' | 'event_keys' = 'events',
  ) {}

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
}
