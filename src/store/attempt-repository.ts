import type { AttemptErrorKind } from '../domain/attempt-record.js';
import type { SqlExecutor } from './sql-executor.js';

/** One recorded attempt of a delivery (docs/delivery.md, "Attempts"), as stored. */
export interface StoredAttempt {
  /** Increases with each attempt recorded: the order of a delivery's attempts, and the page cursor. */
  readonly id: number;
  readonly deliveryId: number;
  readonly startedAt: number;
  readonly durationMs: number;
  /** Set when the endpoint answered. */
  readonly statusCode: number | null;
  readonly headers: Readonly<Record<string, string>> | null;
  readonly body: string | null;
  readonly bodyTruncated: boolean;
  /** Set when it did not. */
  readonly errorKind: AttemptErrorKind | null;
  readonly error: string | null;
}

interface AttemptRow extends Omit<StoredAttempt, 'headers' | 'bodyTruncated'> {
  readonly headers: string | null;
  readonly bodyTruncated: boolean | number;
}

const attemptColumns = `id, delivery_id AS "deliveryId", started_at AS "startedAt", duration_ms AS "durationMs",
  status_code AS "statusCode", response_headers AS headers, response_body AS body, body_truncated AS "bodyTruncated",
  error_kind AS "errorKind", error`;

/**
 * Reads the attempts on record. They are written with their delivery's outcome (DeliveryRepository.settleMany)
 * and leave with their delivery (SQLite: a cascade; PostgreSQL: a statement trigger, and whole partitions with
 * the deliveries', see retention.ts).
 */
export class AttemptRepository {
  constructor(private readonly sql: SqlExecutor) {}

  /** A delivery's attempts in the order they were made, after attempt `afterId`, at most `limit`. */
  async list(deliveryId: number, afterId: number, limit: number): Promise<StoredAttempt[]> {
    const rows = await this.sql.all<AttemptRow>(
      `SELECT ${attemptColumns} FROM delivery_attempts WHERE delivery_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
      [deliveryId, afterId, limit],
    );
    return rows.map(stored);
  }

  /** A delivery's latest attempt, if it has one on record. */
  async last(deliveryId: number): Promise<StoredAttempt | undefined> {
    const [row] = await this.sql.all<AttemptRow>(
      `SELECT ${attemptColumns} FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id DESC LIMIT 1`,
      [deliveryId],
    );
    return row && stored(row);
  }
}

function stored(row: AttemptRow): StoredAttempt {
  return {
    ...row,
    id: Number(row.id),
    deliveryId: Number(row.deliveryId),
    startedAt: Number(row.startedAt),
    headers: row.headers === null ? null : (JSON.parse(row.headers) as Record<string, string>),
    bodyTruncated: Boolean(row.bodyTruncated),
  };
}
