/**
 * Where a loop keeps its place: a poll's `after` position or a pull's `checkPoint`. Keep it somewhere durable
 * (a file, a database row written in the same transaction as your results) to resume after a restart.
 */
export interface CursorStore {
  load(): Promise<string | undefined>;
  save(cursor: string): Promise<void>;
}

/** A store in memory: the place is lost when the process ends. */
export function memoryCursorStore(initial?: string): CursorStore & { readonly cursor: string | undefined } {
  let cursor = initial;
  return {
    get cursor() {
      return cursor;
    },
    async load() {
      return cursor;
    },
    async save(next) {
      cursor = next;
    },
  };
}
