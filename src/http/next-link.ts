import { formatPollPosition } from '../domain/poll-cursor.js';

/**
 * The URL of the next page: the same query with `after` moved to the position reached, correctly encoded.
 * An alternative subject sent in the header stays out of the link (the client keeps sending the header).
 * @example nextPollUrl('https://herald.example', '/events/api/v1/events', { after: '0', resource: 'urn:a:b' }, 42)
 *   // 'https://herald.example/events/api/v1/events?after=~42&resource=urn%3Aa%3Ab'
 */
export function nextPollUrl(
  baseUrl: string,
  path: string,
  query: Readonly<Record<string, unknown>>,
  positionReached: number,
): string {
  const parameters = new URLSearchParams({ after: formatPollPosition(positionReached) });
  for (const [name, value] of Object.entries(query)) {
    if (name === 'after') continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item === 'string' || typeof item === 'number') parameters.append(name, String(item));
    }
  }
  return `${baseUrl}${path}?${parameters.toString()}`;
}
