/**
 * The messages between Herald's event loop and the threads that hold its SQLite connections
 * (connection-thread.ts). Everything a message carries is structured-cloned: plain values only.
 */
import type { PlannedDelivery } from '../fan-out-plan.js';
import type { LogQuery } from '../store.js';

/** What a connection is for: one writer per database; readers for reads; one for checkpoints and pings. */
export type ConnectionRole = 'writer' | 'reader' | 'maintenance';

/** The checkpoints the maintenance connection runs (see checkpoints.ts). */
export type CheckpointMode = 'PASSIVE' | 'RESTART';

/** The columns of one event row, in the order the append statement binds them. */
export type EventRow = readonly [
  id: string,
  source: string,
  type: string,
  resource: string | null,
  subject: string | null,
  alternativesubject: string | null,
  time: string | null,
  payload: string,
];

export interface SqlText {
  readonly sql: string;
  /** `$n`-named values: an object keyed by n. */
  readonly parameters: Readonly<Record<string, unknown>>;
}

export type ThreadRequest =
  | { readonly op: 'open'; readonly connection: number; readonly path: string; readonly role: ConnectionRole }
  | { readonly op: 'close'; readonly connection: number }
  | ({ readonly op: 'all'; readonly connection: number } & SqlText)
  | {
      readonly op: 'append';
      readonly connection: number;
      readonly events: readonly EventRow[];
      readonly deliveries: readonly PlannedDelivery[];
      readonly now: number;
      readonly owner: string | null;
      readonly leaseUntil: number | null;
    }
  | {
      /** One bounded page of the log (Store.readLog), its end and its rows read in one snapshot. */
      readonly op: 'readLog';
      readonly connection: number;
      readonly query: LogQuery;
    }
  | {
      /** `readLog` answered as the bytes of its JSON array (Store.readLogBytes), handed over without a copy. */
      readonly op: 'readLogBytes';
      readonly connection: number;
      readonly query: LogQuery;
    }
  | {
      /** Statements in one transaction, undone when a guard returns no row (SqlExecutor.atomically). */
      readonly op: 'atomically';
      readonly connection: number;
      readonly statements: readonly (SqlText & { readonly guard: boolean })[];
    }
  | { readonly op: 'checkpoint'; readonly connection: number; readonly mode: CheckpointMode }
  | { readonly op: 'dataVersion'; readonly connection: number };

/** What `all` answers. */
export interface StatementResult {
  readonly rows: unknown[];
  /** Whether it wrote anything: a commit the caller must make durable before answering. */
  readonly wrote: boolean;
  /** A reader connection was asked to write: send the statement to the writer. */
  readonly notReadonly?: true;
}

/** What `atomically` answers: each statement's rows, or null when a guard undid the write. */
export interface AtomicResult {
  readonly rows: unknown[][] | null;
  /** Whether anything was committed: the caller makes it durable before answering. */
  readonly wrote: boolean;
}

/** What `append` answers: per event whether it was new, and the deliveries written. */
export interface AppendResult {
  readonly stored: boolean[];
  /** [delivery id, subscription id, event index] of deliveries written leased to the claim's owner. */
  readonly claimed: (readonly [number, number, number])[];
  readonly unclaimed: number;
}

/** An error as it crosses back: SQLite's code survives, so errors classify as before (store-errors.ts). */
export interface ThreadError {
  readonly message: string;
  readonly name: string;
  readonly code: string | undefined;
}

export type ThreadResponse =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: ThreadError };
