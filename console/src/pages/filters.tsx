import { useState } from 'preact/hooks';
import { call, localProblem } from '../api.js';
import { useNotices } from '../notices.js';
import { Field, PageHeading } from '../ui.js';

interface Evaluation {
  readonly result: boolean | number | string;
  readonly errors: { readonly kind: string; readonly message: string }[];
}

const sampleEvent = {
  specversion: '1.0',
  id: '0b7a0e9c-5a3f-4c1e-9c1a-2f7e3d6b8a10',
  source: 'https://ttd.apps.altinn.no/ttd/demo/instances/50001/a6e0a8b7',
  type: 'app.instance.created',
  resource: 'urn:altinn:resource:app_ttd_demo',
  subject: '/party/50001',
  time: '2026-01-01T12:00:00Z',
};

/** A playground for CESQL (POST /filters/evaluate): an expression, an event, and what the expression gives. */
export function FiltersPage() {
  const { fail, clear } = useNotices();
  const [expression, setExpression] = useState("type LIKE 'app.%' AND subject = '/party/50001'");
  const [event, setEvent] = useState(JSON.stringify(sampleEvent, null, 2));
  const [answer, setAnswer] = useState<Evaluation | undefined>();

  const evaluate = async (submitted: Event) => {
    submitted.preventDefault();
    setAnswer(undefined);
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(event);
      } catch (error) {
        throw localProblem('The event is not valid JSON.', (error as Error).message);
      }
      setAnswer(await call<Evaluation>('/filters/evaluate', { method: 'POST', body: { expression, event: parsed } }));
      clear();
    } catch (error) {
      fail(error);
    }
  };

  const matches = answer && answer.result === true && answer.errors.length === 0;
  return (
    <section>
      <PageHeading>Filters</PageHeading>
      <p>Try a CESQL expression on an event before subscribing with it (docs/filters.md).</p>
      <form class="panel" onSubmit={evaluate} aria-label="Filter playground">
        <Field label="Expression" value={expression} onInput={setExpression} />
        <Field label="Event" value={event} onInput={setEvent} multiline hint="A CloudEvent as JSON, valid as publishing requires." />
        <div class="actions">
          <button type="submit">Evaluate</button>
        </div>
      </form>
      <section role="region" aria-label="Result" aria-live="polite" class="panel">
        {answer ? (
          <>
            <p>
              <strong>{JSON.stringify(answer.result)}</strong>: {matches ? 'as a filter, this event matches.' : 'as a filter, this event does not match.'}
            </p>
            {answer.errors.length > 0 && (
              <ul>
                {answer.errors.map((e, i) => (
                  <li key={i}>
                    {e.kind}: {e.message}
                  </li>
                ))}
              </ul>
            )}
          </>
        ) : (
          <p>Evaluate an expression to see its result.</p>
        )}
      </section>
    </section>
  );
}
