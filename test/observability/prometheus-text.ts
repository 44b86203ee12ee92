/** One scrape, parsed: each sample by its name and labels. */
export interface Scrape {
  /** A sample's value, or undefined when the scrape has no such series. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** The names of every sample in the scrape. */
  readonly names: ReadonlySet<string>;
}

/**
 * Parses Prometheus' text exposition format (what `GET /metrics` answers) far enough for tests: samples, not
 * comments; label values without escaped quotes.
 */
export function parseScrape(text: string): Scrape {
  const samples = new Map<string, number>();
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const [, name = '', labelText = '', value = ''] = match;
    const labels = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    samples.set(key(name, labels), Number(value));
    names.add(name);
  }
  return { value: (name, labels = {}) => samples.get(key(name, labels)), names };
}

function key(name: string, labels: Record<string, string | undefined>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((label) => `${label}=${JSON.stringify(labels[label])}`);
  return `${name}{${sorted.join(',')}}`;
}
