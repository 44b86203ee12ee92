import { parseCloudEvent, type ValidEvent } from '../src/domain/cloudevent.js';
import type { SubscriptionMatcher } from '../src/store/store.js';
import { openStore } from '../src/store/open-store.js';
import { benchEvent } from './load.js';

/** Events per append: one commit each, large enough that the log fills at the store's own pace. */
const perAppend = 5_000;

/**
 * Writes `count` benchmark events of `resource` straight to the store, before Herald starts: a log to read
 * is set up in seconds, not in the minutes publishing it over HTTP would take. `match` queues them for
 * subscriptions as a publish would.
 * @returns the seconds it took
 */
export async function seedLog(database: string, count: number, resource: string, match?: SubscriptionMatcher): Promise<number> {
  const started = performance.now();
  const store = await openStore(database);
  try {
    for (let written = 0; written < count; written += perAppend) {
      const events: ValidEvent[] = [];
      for (let i = 0; i < Math.min(perAppend, count - written); i++) {
        const parsed = parseCloudEvent(benchEvent(resource));
        if (!parsed.ok) throw new Error(`benchEvent made an invalid event: ${JSON.stringify(parsed.errors)}`);
        events.push(parsed.value);
      }
      await store.appendEvents(events, match);
    }
  } finally {
    await store.close();
  }
  return (performance.now() - started) / 1000;
}
