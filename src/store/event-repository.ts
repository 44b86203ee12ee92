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
