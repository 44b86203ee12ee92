import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { useNotices } from '../notices.js';
import { tailEvents } from '../sse.js';
import type { CloudEvent } from '../types.js';
import { Field, PageHeading } from '../ui.js';

/** Events the list keeps; older ones drop off the end. */
const kept = 200;

interface Shown {
  readonly key: string;
  readonly event: CloudEvent;
}

/** The live tail (GET /events/stream): events as they are published, newest first, each opening as JSON. */
export function EventsPage() {
  const { say, fail } = useNotices();
  const [resource, setResource] = useState('');
  const [source, setSource] = useState('');
  const [type, setType] = useState('');
  const [events, setEvents] = useState<Shown[]>([]);
  const [opened, setOpened] = useState<Shown | undefined>();
  const [running, setRunning] = useState<AbortController | undefined>();
  const received = useRef(0);

  // Leaving the page stops the stream.
  useEffect(() => () => running?.abort(), [running]);

  const start = (event: Event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    if (resource.trim()) query.set('resource', resource.trim());
    if (source.trim()) query.set('source', source.trim());
    // Several types, separated by commas or spaces: any of them.
    for (const t of type.split(/[\s,]+/).filter(Boolean)) query.append('type', t);
    const abort = new AbortController();
    setRunning(abort);
    setEvents([]);
    setOpened(undefined);
    say('Connecting…');
    tailEvents({
      query,
      signal: abort.signal,
      onState: (state) => say(state === 'open' ? 'Listening: new events appear at the top of the list.' : 'The stream dropped; reconnecting…'),
      onEvent: (data, id) => {
        let parsed: CloudEvent;
        try {
          parsed = JSON.parse(data) as CloudEvent;
        } catch {
          return;
        }
        const key = id ?? `received-${++received.current}`;
        setEvents((shown) => [{ key, event: parsed }, ...shown].slice(0, kept));
      },
    }).then(
      () => {
        if (abort.signal.aborted) say('Stopped.');
      },
      (error: unknown) => {
        setRunning(undefined);
        fail(error instanceof ApiError || error instanceof Error ? error : new Error(String(error)));
      },
    );
  };
  const stop = () => {
    running?.abort();
    setRunning(undefined);
  };

  return (
    <section>
      <PageHeading>Events</PageHeading>
      <form class="panel" onSubmit={running ? (e) => (e.preventDefault(), stop()) : start} aria-label="Event filters">
        <Field label="Resource" value={resource} onInput={setResource} hint="A resource URN; a resource or a source is required." />
        <Field label="Source" value={source} onInput={setSource} hint="The events' source URL." />
        <Field label="Type" value={type} onInput={setType} hint="One or more event types, separated by commas; empty: every type." />
        <div class="actions">
          <button type="submit">{running ? 'Stop' : 'Start'}</button>
        </div>
      </form>
      <div class="tail">
        <ul role="list" aria-label="Live events" class="live">
          {events.map((shown) => (
            <li key={shown.key}>
              <button type="button" aria-pressed={opened?.key === shown.key} onClick={() => setOpened(shown)}>
                <span class="event-type">{shown.event.type}</span> <span class="event-source">{shown.event.source}</span>
              </button>
            </li>
          ))}
        </ul>
        <section role="region" aria-label="Event JSON" class="event-json">
          {/* Focusable: a long line scrolls sideways, and keyboard users must be able to scroll it too. */}
          {opened ? <pre tabIndex={0}>{JSON.stringify(opened.event, null, 2)}</pre> : <p>Choose an event to see its JSON.</p>}
        </section>
      </div>
    </section>
  );
}
