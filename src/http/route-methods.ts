/**
 * The methods each registered path takes, so that a known path asked with another method is answered 405 with
 * `Allow` rather than 404 (the router only knows "no route"). Paths are matched as the router matches them:
 * trailing and doubled slashes ignored, `:name` standing for one segment and `*` for the rest.
 */
export class RouteMethods {
  private readonly routes: { readonly pattern: RegExp; readonly methods: Set<string> }[] = [];

  add(method: string | readonly string[], url: string): void {
    const pattern = patternOf(url);
    let entry = this.routes.find((r) => r.pattern.source === pattern.source);
    if (!entry) {
      entry = { pattern, methods: new Set() };
      this.routes.push(entry);
    }
    for (const m of typeof method === 'string' ? [method] : method) entry.methods.add(m.toUpperCase());
  }

  /** The methods `path` takes, sorted; none for a path Herald does not have. */
  of(path: string): string[] {
    const normalized = `/${path.split('/').filter(Boolean).join('/')}`;
    const methods = new Set<string>();
    for (const route of this.routes) {
      if (route.pattern.test(normalized)) route.methods.forEach((m) => methods.add(m));
    }
    return [...methods].sort();
  }
}

function patternOf(url: string): RegExp {
  const normalized = `/${url.split('/').filter(Boolean).join('/')}`;
  const source = normalized
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*';
      if (segment.startsWith(':')) return '[^/]+';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${source}$`);
}
