import type { Authorizer } from '../../../domain/policy.js';
import type { ReplayLimits } from '../../../domain/replay.js';
import { scopeOfSubscription } from '../../../delivery/replay-selection.js';
import { parseStartFrom, type ReplayStart } from '../../../domain/replay-request.js';
import type { SubscriptionSpec } from '../../../domain/subscription-request.js';
import type { SubscriptionRecord } from '../../../store/records.js';
import type { ReplayRecord } from '../../../store/replay-repository.js';
import type { Store } from '../../../store/store.js';
import { HttpProblem, invalid } from '../../problems.js';
import { type ReplayCounting, type ReplayPlan, planReplay } from '../../replay-plan.js';
import { refuseOverLimits } from './replay-guards.js';

/** A backfill planned before its subscription is created: where it starts, and its range so far. */
export interface PlannedBackfill {
  readonly start: ReplayStart;
  readonly plan: ReplayPlan;
}

/** A subscription request's `startFrom`, its name in any case as the request's other fields; null counts as none. */
export function startFromIn(body: unknown): unknown {
  if (typeof body !== 'object' || body === null) return undefined;
  const entry = Object.entries(body).find(([key]) => key.toLowerCase() === 'startfrom');
  return entry?.[1] ?? undefined;
}

/**
 * Plans the backfill `startFrom` asks for, before anything is created: a bad start, a range too large or a
 * consumer out of replays is refused with nothing changed.
 */
export async function planBackfill(
  store: Store,
  authorizer: Authorizer,
  startFrom: unknown,
  consumer: string,
  spec: SubscriptionSpec,
  limits: ReplayLimits,
  counting: ReplayCounting,
): Promise<PlannedBackfill> {
  const parsed = parseStartFrom(startFrom);
  if (!parsed.ok) throw invalid('invalidRequest', parsed.errors);
  // A new subscription has no replays yet: only its consumer's count can stand in the way.
  await refuseOverLimits(store, { id: 0, consumer }, limits);
  const plan = await counting.exclusively(consumer, () =>
    planReplay(store, authorizer, scopeOfSubscription(consumer, spec), { start: parsed.value, until: undefined, field: 'startFrom' }, limits.examinedRows),
  );
  return { start: parsed.value, plan };
}

/**
 * Creates the backfill of a subscription just created. It waits until the subscription receives events (a push
 * subscription's handshake) and every process matches them to it, then its range is extended to the log's end
 * and it runs (docs/replay.md#backfill). Should the consumer's last place have gone meanwhile, the subscription
 * is removed again, so the request changes nothing.
 */
export async function startBackfill(
  store: Store,
  subscription: SubscriptionRecord,
  backfill: PlannedBackfill,
  limits: ReplayLimits,
  now: number,
): Promise<ReplayRecord> {
  const { start, plan } = backfill;
  const replay = await store.replays.create(
    {
      subscriptionId: subscription.id,
      consumer: subscription.consumer,
      status: 'waiting',
      fromTime: start.kind === 'time' ? start.at : null,
      afterCursor: start.kind === 'cursor' ? start.text : null,
      untilTime: null,
      afterSeq: plan.afterSeq,
      throughSeq: plan.throughSeq,
      events: plan.events,
      now,
    },
    limits,
  );
  if (replay) return replay;
  await store.subscriptions.delete(subscription.id);
  throw new HttpProblem('replayLimit', 'Your subscriptions have as many replays in progress as one consumer may have.');
}
