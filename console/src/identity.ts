import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { ApiError, call, isMissing, send } from './api.js';
import type { Me } from './types.js';

/** Which endpoints this Herald has: a control whose endpoint is missing (404) is left out, not broken. */
export interface Features {
  readonly me: boolean;
  readonly overview: boolean;
  readonly stream: boolean;
  readonly evaluate: boolean;
  readonly filterTest: boolean;
}

/** Who signed in, and what this Herald offers them. */
export interface Identity {
  /** Unknown when the Herald has no `GET /me`; then everything a token lists is its own. */
  readonly me: Me | undefined;
  readonly features: Features;
}

export const IdentityContext = createContext<Identity>({
  me: undefined,
  features: { me: false, overview: false, stream: false, evaluate: false, filterTest: false },
});
export const useIdentity = () => useContext(IdentityContext);

/** True when the caller may change the subscription (an owner's buttons); an operator may read any. */
export function owns(identity: Identity, consumer: string): boolean {
  return identity.me === undefined || identity.me.consumer === consumer;
}

/** Whether an endpoint exists and this token may use it: 2xx, or a 400 refusing the probe itself. */
async function exists(path: string, method: 'GET' | 'POST', body?: unknown): Promise<boolean> {
  const abort = new AbortController();
  try {
    await send(path, { method, body, signal: abort.signal });
    return true;
  } catch (error) {
    if (error instanceof ApiError) return !isMissing(error) && error.status !== 401 && error.status !== 403;
    throw error;
  } finally {
    // The stream's probe must not stay open.
    abort.abort();
  }
}

/** A small valid event for the playground's probe. */
const probeEvent = {
  specversion: '1.0',
  id: 'herald-console-probe',
  source: 'https://herald.invalid/console',
  type: 'herald.console.probe',
  resource: 'urn:altinn:resource:herald.console.probe',
};

/**
 * Checks the token (a 401 throws) and finds who it is and what this Herald has. Each probe is a request the
 * endpoint answers cheaply and without an error, so the browser logs nothing: the stream is closed as soon as
 * it answers, the filter test looks at one event.
 */
export async function discover(): Promise<Identity> {
  let me: Me | undefined;
  try {
    me = await call<Me>('/me');
  } catch (error) {
    if (!isMissing(error)) throw error;
    await call('/subscriptions?size=1');
  }
  const [overview, stream, evaluate, filterTest] = await Promise.all([
    exists('/overview', 'GET'),
    exists(`/events/stream?resource=${encodeURIComponent(probeEvent.resource)}`, 'GET'),
    exists('/filters/evaluate', 'POST', { expression: 'true', event: probeEvent }),
    exists('/filters/test', 'POST', { sample: 1, resourceFilter: probeEvent.resource }),
  ]);
  return { me, features: { me: me !== undefined, overview, stream, evaluate, filterTest } };
}
