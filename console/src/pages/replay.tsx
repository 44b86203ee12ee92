import { useEffect, useState } from 'preact/hooks';
import { call } from '../api.js';
import { useNotices } from '../notices.js';
import { Field } from '../ui.js';

/**
 * Asks for a replay's range, counts it with a dry run, and starts it only on "Confirm replay"
 * (docs/replay.md): a replay can send many events again, so the count comes first.
 */
export function ReplayForm(props: { path: string; onStarted: () => void }) {
  const { say, fail } = useNotices();
  const [after, setAfter] = useState('0');
  const [from, setFrom] = useState('');
  const [until, setUntil] = useState('');
  const [counted, setCounted] = useState<number | undefined>();

  /** Exactly one of `from` and `after`: a time given wins over the position. */
  const range = () => ({
    ...(from.trim() ? { from: new Date(from.trim()).toISOString() } : { after: after.trim() || '0' }),
    ...(until.trim() ? { until: new Date(until.trim()).toISOString() } : {}),
  });
  const edit = (set: (value: string) => void) => (value: string) => {
    set(value);
    setCounted(undefined);
  };

  const count = async () => {
    try {
      const answer = await call<{ events: number }>(`${props.path}/replay`, { method: 'POST', body: { ...range(), dryRun: true } });
      setCounted(answer.events);
    } catch (error) {
      fail(error);
    }
  };
  // The whole log (after 0) is counted as soon as the form opens; a changed range is counted again on demand.
  useEffect(() => void count(), []);
  const dryRun = (event: Event) => {
    event.preventDefault();
    void count();
  };
  const confirm = async () => {
    try {
      const replay = await call<{ id: number; events: number }>(`${props.path}/replay`, { method: 'POST', body: range() });
      say(`Replay ${replay.id} started: ${replay.events} events.`);
      props.onStarted();
    } catch (error) {
      fail(error);
    }
  };

  return (
    <form class="panel" onSubmit={dryRun} aria-labelledby="replay-heading">
      <h2 id="replay-heading">Replay</h2>
      <Field label="After" value={after} onInput={edit(setAfter)} hint="The events after an event id, a position ~n, or 0 for the start of the log." />
      <Field label="From" type="datetime-local" value={from} onInput={edit(setFrom)} hint="Or: the events stored at or after this time (then After is not used)." />
      <Field label="Until" type="datetime-local" value={until} onInput={edit(setUntil)} hint="Optional: leave out events stored after this time." />
      <div class="actions">
        <button type="submit">Count events</button>
        <span aria-live="polite">{counted !== undefined && `${counted} events would be replayed`}</span>
        {counted !== undefined && (
          <button type="button" onClick={() => void confirm()}>
            Confirm replay
          </button>
        )}
      </div>
    </form>
  );
}
