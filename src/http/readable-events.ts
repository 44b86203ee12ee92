import type { Authorizer } from '../domain/policy.js';
import type { LogReader } from '../store/log-reader.js';

/**
 * Keeps only the events the consumer may read. With no policy in force it changes nothing and costs nothing;
 * with one, it looks up the events' resources and subjects once for the whole page.
 */
export async function readableEvents<T extends { readonly seq: number }>(
  store: Pick<LogReader, 'events'>,
  authorizer: Authorizer,
  consumer: string,
  events: readonly T[],
): Promise<readonly T[]> {
  if (!authorizer.enforced || events.length === 0) return events;
  const attributes = await store.events.attributes(events.map((e) => e.seq));
  return events.filter((e) => {
    const event = attributes.get(e.seq);
    return event !== undefined && authorizer.allows({ consumer, action: 'read', resource: event.resource, event });
  });
}
