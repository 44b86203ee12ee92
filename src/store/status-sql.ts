import type { DeliveryStatus } from '../domain/delivery-status.js';
import type { ReplayStatus } from '../domain/replay.js';
import {
  nextSubscriptionStatus,
  type SubscriptionChange,
  type SubscriptionKind,
  type SubscriptionStatus,
  subscriptionStatuses,
  type SubscriptionTransition,
  transitionsOn,
} from '../domain/subscription-status.js';

/*
 * Statuses as SQL: the shared statements take status names and transitions from the tables in
 * `domain/subscription-status.ts`, `domain/delivery-status.ts` and `domain/replay.ts`, so their SQL cannot
 * drift from them. The names are Herald's own constants, never input, and the text they make is fixed, so
 * each statement is still prepared once.
 */

type Status = SubscriptionStatus | DeliveryStatus | ReplayStatus;

/** One status name as a SQL literal. */
export function status(name: Status): string {
  return `'${name}'`;
}

/**
 * A condition: `column` holds one of `statuses` (`=` for one, as a hand-written statement would have it).
 * @example statusIn('d.status', ['pending', 'failed']) // "d.status IN ('pending', 'failed')"
 */
export function statusIn(column: string, statuses: readonly Status[]): string {
  return statuses.length === 1 ? `${column} = ${status(statuses[0] as Status)}` : `${column} IN (${statuses.map(status).join(', ')})`;
}

const kindCondition: Record<SubscriptionKind, string> = { push: 'IS NOT NULL', pull: 'IS NULL' };

/** `alias` qualifies the columns (`s.`), for statements that name their tables. */
function fromCondition(t: SubscriptionTransition, alias: string): string {
  const from = statusIn(`${alias}status`, t.from);
  return t.kind ? `${alias}endpoint ${kindCondition[t.kind]} AND ${from}` : from;
}

/**
 * A condition on a `subscriptions` row: the change is allowed from its status and kind. The statement making
 * the change puts it in its WHERE, so a refused change updates nothing.
 * @example subscriptionChangeAllowed('validated', 's') // "((s.endpoint IS NOT NULL AND s.status IN ('pending', 'active')))"
 */
export function subscriptionChangeAllowed(on: SubscriptionChange, alias?: string): string {
  return `(${transitionsOn(on)
    .map((t) => `(${fromCondition(t, alias ? `${alias}.` : '')})`)
    .join(' OR ')})`;
}

/**
 * The status a `subscriptions` row has after the change, as an expression over its status and kind; a row the
 * change is not allowed from keeps its status. A change that leads every row to one status is that status.
 * @example subscriptionStatusAfter('unreadTooLong') // "CASE WHEN endpoint IS NULL AND status = 'active' THEN 'inactive' ELSE status END"
 */
export function subscriptionStatusAfter(on: SubscriptionChange): string {
  const rows = transitionsOn(on);
  const everywhere = (['push', 'pull'] as const).flatMap((kind) => subscriptionStatuses.map((from) => nextSubscriptionStatus(from, on, kind)));
  const only = everywhere[0];
  if (only !== undefined && everywhere.every((to) => to === only)) return status(only);
  return `CASE ${rows.map((t) => `WHEN ${fromCondition(t, '')} THEN ${status(t.to)}`).join(' ')} ELSE status END`;
}
