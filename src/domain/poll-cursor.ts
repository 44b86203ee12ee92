/**
 * Where a poller stands in the log. Clients pass `after` as `0` (the start), as the id of the last event they
 * processed (Altinn's contract), or as the position token Herald puts in every `next` link: `~` and a
 * sequence number. A position lets the cursor advance past events a caller was not shown, and names no event.
 */
export type PollCursor =
  | { readonly kind: 'start' }
  | { readonly kind: 'event'; readonly id: string }
  | { readonly kind: 'position'; readonly seq: number };

const positionPattern = /^~(\d{1,15})$/;

/** @example parsePollCursor('~1042') // { kind: 'position', seq: 1042 } */
export function parsePollCursor(after: string): PollCursor {
  if (after === '0') return { kind: 'start' };
  const position = positionPattern.exec(after);
  if (position) return { kind: 'position', seq: Number(position[1]) };
  return { kind: 'event', id: after };
}

/** @example formatPollPosition(1042) // '~1042' */
export function formatPollPosition(seq: number): string {
  return `~${seq}`;
}
