import { useEffect, useState } from 'preact/hooks';

/** The page a hash names: `#/subscriptions/12/deliveries/5` → ['subscriptions', '12', 'deliveries', '5']. */
export function routeOf(hash: string): string[] {
  return hash.replace(/^#\/?/, '').split('/').filter((part) => part !== '').map(decodeURIComponent);
}

/** The current route, following `hashchange`. */
export function useRoute(): string[] {
  const [route, setRoute] = useState(() => routeOf(location.hash));
  useEffect(() => {
    const changed = () => setRoute(routeOf(location.hash));
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}

export const go = (hash: string) => {
  location.hash = hash;
};
