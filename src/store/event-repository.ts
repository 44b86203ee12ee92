import type { SqlExecutor } from './sql-executor.js';

/** The attributes authorization looks at. */
export interface EventAttributes {
  readonly resource: string;
  readonly subject: string | null;
  readonly alternativesubject: string | null;
}

/** Reads of the event log that both engines share. */
export class EventRepository {
  constructor(private readonly sql: SqlExecutor) {}

  /** See `Store.findEventPosition`. */
  async position(id: string, source?: string): Promise<number | undefined> {
    const [row] =
      source === undefined
        ? await this.sql.all<{ seq: number | null }>('SELECT min(seq) AS seq FROM events WHERE id = $1', [id])
        : await this.sql.all<{ seq: number | null }>('SELECT seq FROM events WHERE source = $1 AND id = $2', [source, id]);
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
