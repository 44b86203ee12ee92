import { matchesTextPattern, parseTextPattern } from './text-pattern.js';

/**
 * A filter on event sources. With `%` it is a wildcard pattern; without, it names a URI and everything below
 * it: `https://x/ttd/app` matches `https://x/ttd/app` and `https://x/ttd/app/instances/1`, not
 * `https://x/ttd/apple` (Altinn's clients rely on this for subscriptions; polling means the same).
 */
export type SourceFilter =
  | { readonly kind: 'wildcard'; readonly parts: readonly string[] }
  | { readonly kind: 'tree'; readonly uri: string; readonly below: string };

/** @example parseSourceFilter('https://x/ttd/app') // { kind: 'tree', uri: 'https://x/ttd/app', below: 'https://x/ttd/app/' } */
export function parseSourceFilter(value: string): SourceFilter {
  const pattern = parseTextPattern(value);
  if (pattern.kind === 'wildcard') return pattern;
  return { kind: 'tree', uri: value, below: value.endsWith('/') ? value : `${value}/` };
}

export function matchesSourceFilter(filter: SourceFilter, source: string): boolean {
  if (filter.kind === 'wildcard') return matchesTextPattern(filter, source);
  return source === filter.uri || source.startsWith(filter.below);
}
