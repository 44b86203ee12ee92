import { call } from '../api.js';
import { useNotices } from '../notices.js';
import type { Attempt, Delivery } from '../types.js';
import { dash, PageHeading, Time, useLoaded } from '../ui.js';

/** How much of a response body the table shows: its start says what went wrong. */
const bodyShown = 200;

/** One delivery (#/subscriptions/{id}/deliveries/{deliveryId}): every attempt on record, and Resend. */
export function DeliveryPage(props: { subscriptionId: string; deliveryId: string }) {
  const { say, fail } = useNotices();
  const path = `/subscriptions/${encodeURIComponent(props.subscriptionId)}/deliveries/${encodeURIComponent(props.deliveryId)}`;
  const delivery = useLoaded(() => call<Delivery>(path), [path], 5_000);
  const attempts = useLoaded(() => call<{ attempts: Attempt[] }>(`${path}/attempts?size=100`), [path], 5_000);

  const resend = async () => {
    try {
      await call(`${path}/resend`, { method: 'POST' });
      say(`Delivery ${props.deliveryId} queued to be sent again.`);
    } catch (error) {
      fail(error);
    }
    void delivery.reload();
    void attempts.reload();
  };

  const d = delivery.value;
  return (
    <section>
      <p>
        <a href={`#/subscriptions/${props.subscriptionId}`}>Back to subscription {props.subscriptionId}</a>
      </p>
      <PageHeading>Delivery {props.deliveryId}</PageHeading>
      {d && (
        <dl class="facts">
          <div>
            <dt>Event</dt>
            <dd>{dash(d.eventId)}</dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd>{d.status}</dd>
          </div>
          <div>
            <dt>Attempts</dt>
            <dd>{d.attempts}</dd>
          </div>
          <div>
            <dt>Last status code</dt>
            <dd>{dash(d.lastStatusCode)}</dd>
          </div>
          {d.lastError && (
            <div>
              <dt>Last error</dt>
              <dd>{d.lastError}</dd>
            </div>
          )}
        </dl>
      )}
      <div class="actions">
        <button type="button" onClick={() => void resend()}>
          Resend
        </button>
      </div>
      <div class="table-wrap">
        <table>
          <caption>Attempts</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Duration</th>
              <th scope="col">Status</th>
              <th scope="col">Response</th>
            </tr>
          </thead>
          <tbody>
            {attempts.value?.attempts.map((a) => (
              <tr key={a.id}>
                <td>
                  <Time iso={a.started} />
                </td>
                <td class="number">{a.durationMs === undefined ? '—' : `${a.durationMs} ms`}</td>
                <td>{a.statusCode ?? a.errorKind ?? '—'}</td>
                <td class="wrap">
                  <code>{responseOf(a)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {attempts.value && attempts.value.attempts.length === 0 && <p>No attempts yet.</p>}
      </div>
    </section>
  );
}

/** The start of the body the endpoint answered, or why no answer came. */
function responseOf(a: Attempt): string {
  if (a.statusCode === undefined) return a.error ?? '';
  const body = a.body ?? '';
  return body.length > bodyShown ? `${body.slice(0, bodyShown)}…` : body;
}
