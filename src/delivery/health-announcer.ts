import { parseCloudEvent } from '../domain/cloudevent.js';
import { type HealthChange, healthEvent } from '../domain/endpoint-health.js';
import type { GroupCommitAppender } from '../store/group-commit.js';

/**
 * Publishes changes of endpoints' health into Herald's own log, through the same group commit as any publish:
 * stored durably, matched to subscriptions (a consumer may subscribe to its own endpoints' health) and fanned
 * out in the same transaction. The event id is the same for one change however often it is announced.
 */
export function healthAnnouncer(appender: GroupCommitAppender, baseUrl: () => string): (change: HealthChange) => Promise<void> {
  return async (change) => {
    const parsed = parseCloudEvent(healthEvent(change, baseUrl()));
    // Herald builds the event itself: a refusal here is a bug, reported like any delivery error.
    if (!parsed.ok) throw new Error(`a health event did not validate: ${JSON.stringify(parsed.errors)}`);
    await appender.append([parsed.value]);
  };
}
