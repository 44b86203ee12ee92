import type { ReplayLimits } from '../../../domain/replay.js';
import type { SubscriptionRecord } from '../../../store/records.js';
import type { Store } from '../../../store/store.js';
import { HttpProblem } from '../../problems.js';

/** A subscription its endpoint disabled (410 Gone) would never be sent the replay: its owner validates it first. */
export function refuseIfDisabled(subscription: SubscriptionRecord): void {
  if (subscription.status !== 'disabled') return;
  throw new HttpProblem(
    'subscriptionDisabled',
    `Subscription ${subscription.id} is disabled: its endpoint answered 410 Gone. Validate it again ` +
      `(POST …/subscriptions/${subscription.id}/validate) before replaying to it.`,
  );
}

/** Refuses a replay its subscription or its consumer has no room for. */
export async function refuseOverLimits(
  store: Store,
  subscription: { readonly id: number; readonly consumer: string },
  limits: ReplayLimits,
): Promise<void> {
  const counts = await store.replays.inProgress(subscription.id, subscription.consumer);
  if (counts.subscription >= limits.perSubscription) {
    throw new HttpProblem(
      'replayLimit',
      `Subscription ${subscription.id} has ${counts.subscription} replays in progress, the most it may have. ` +
        'Wait for one to complete, or cancel one (DELETE …/replays/{replayId}).',
    );
  }
  if (counts.consumer >= limits.perConsumer) {
    throw new HttpProblem(
      'replayLimit',
      `Your subscriptions have ${counts.consumer} replays in progress, the most one consumer may have. ` +
        'Wait for one to complete, or cancel one (DELETE …/replays/{replayId}).',
    );
  }
}
