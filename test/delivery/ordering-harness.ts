import type { ServerResponse } from 'node:http';
import type { ReceivedRequest, ReceiverBehaviour } from '../support/receiver.js';

/** What a keyed receiver saw: per key, the events in the order they arrived, and how many were in flight at once. */
export interface KeyedArrivals {
  /** Event ids per key in arrival order, every attempt counted. */
  readonly byKey: Map<string, string[]>;
  /** The most attempts of one key that were in flight at the same moment. */
  readonly mostInFlightPerKey: Map<string, number>;
  /** The most attempts of any keys in flight at the same moment. */
  mostInFlight: number;
  /** Every event answered so far (attempts included). */
  answered: number;
}

/**
 * A receiver behaviour that holds each event for `holdMs` before answering, so overlapping attempts overlap at
 * the receiver, and records per key (`keyOf`, or `(none)`) what arrived in which order and how much was in
 * flight at once. `fails` decides which events get a 500. Handshakes are answered at once.
 */
export function keyedReceiver(
  keyOf: (event: Record<string, unknown>) => string | undefined,
  options: { holdMs: number; fails?: (event: Record<string, unknown>) => boolean },
): { behaviour: ReceiverBehaviour; arrivals: KeyedArrivals } {
  const arrivals: KeyedArrivals = { byKey: new Map(), mostInFlightPerKey: new Map(), mostInFlight: 0, answered: 0 };
  const inFlight = new Map<string, number>();
  let total = 0;
  const behaviour: ReceiverBehaviour = (request: ReceivedRequest, response: ServerResponse) => {
    if (request.json.type === 'platform.events.validatesubscription') return { status: 200 };
    const key = keyOf(request.json) ?? '(none)';
    const seen = arrivals.byKey.get(key) ?? [];
    seen.push(String(request.json.id));
    arrivals.byKey.set(key, seen);
    const now = (inFlight.get(key) ?? 0) + 1;
    inFlight.set(key, now);
    arrivals.mostInFlightPerKey.set(key, Math.max(arrivals.mostInFlightPerKey.get(key) ?? 0, now));
    total++;
    arrivals.mostInFlight = Math.max(arrivals.mostInFlight, total);
    const status = options.fails?.(request.json) ? 500 : 200;
    setTimeout(() => {
      inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
      total--;
      arrivals.answered++;
      response.writeHead(status);
      response.end();
    }, options.holdMs);
    return 'handled';
  };
  return { behaviour, arrivals };
}
