import { useState } from 'preact/hooks';
import { apiBase, call } from '../api.js';
import { owns, useIdentity } from '../identity.js';
import { useNotices } from '../notices.js';
import { go } from '../route.js';
import { endpointOf, filtersOf, healthOf, statusOf } from '../subscription-text.js';
import type { DeliveryList, Subscription } from '../types.js';
import { dash, PageHeading, Time, useLoaded } from '../ui.js';
import { SecretShownOnce } from './new-subscription.js';
import { ReplayForm } from './replay.js';

interface Ping {
  readonly delivered: boolean;
  readonly attempt: { readonly statusCode?: number; readonly error?: string; readonly durationMs?: number };
}

/** One subscription (#/subscriptions/{id}): what it is, what can be done to it, and its deliveries. */
export function SubscriptionPage(props: { id: string }) {
  const identity = useIdentity();
  const { say, fail } = useNotices();
  const path = `/subscriptions/${encodeURIComponent(props.id)}`;
  const { value: subscription, reload } = useLoaded(() => call<Subscription>(path), [path], 5_000);
  const [deliveryPages, setDeliveryPages] = useState(1);
  const deliveries = useLoaded(() => deliveriesOf(path, deliveryPages), [path, deliveryPages], 5_000);
  const [replaying, setReplaying] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [secret, setSecret] = useState<string | undefined>();
  const [reason, setReason] = useState('');

  /** Runs an action, says how it went, and shows the subscription as it is now. */
  const act = (action: () => Promise<string>) => async () => {
    try {
      say(await action());
    } catch (error) {
      fail(error);
    }
    void reload();
    void deliveries.reload();
  };

  if (!subscription) {
    return (
      <section>
        <PageHeading>Subscription {props.id}</PageHeading>
      </section>
    );
  }
  const mine = owns(identity, subscription.consumer);
  const push = subscription.endPoint !== undefined;
  const operator = identity.me?.operator ?? false;

  const ping = act(async () => {
    const answer = await call<Ping>(`${path}/ping`, { method: 'POST' });
    const { statusCode, error, durationMs } = answer.attempt;
    const outcome = statusCode === undefined ? `failed: ${error ?? 'no answer'}` : `answered ${statusCode}`;
    return `Ping ${answer.delivered ? 'delivered' : 'not delivered'}: the endpoint ${outcome}${durationMs === undefined ? '' : ` in ${durationMs} ms`}.`;
  });
  const validate = act(async () => {
    await call(`${path}/validate`, { method: 'POST' });
    return 'Validation requested: Herald sends the endpoint a validation event.';
  });
  const rotate = act(async () => {
    const rotated = await call<{ secret: string; previousSecretExpires?: string }>(`${path}/secret/rotate`, { method: 'POST' });
    setSecret(rotated.secret);
    return rotated.previousSecretExpires
      ? `Secret rotated; the previous one still signs until ${new Date(rotated.previousSecretExpires).toLocaleString()}.`
      : 'Secret rotated.';
  });
  const disable = act(async () => {
    await call(`${path}/disable`, { method: 'POST', body: reason.trim() ? { reason: reason.trim() } : {} });
    return `Subscription ${subscription.id} disabled.`;
  });
  const enable = act(async () => {
    await call(`${path}/enable`, { method: 'POST' });
    return `Subscription ${subscription.id} enabled.`;
  });
  const remove = async () => {
    try {
      await call(path, { method: 'DELETE' });
      go('#/subscriptions');
      say(`Subscription ${subscription.id} deleted.`);
    } catch (error) {
      fail(error);
    }
  };

  return (
    <section>
      <PageHeading>Subscription {subscription.id}</PageHeading>
      <dl class="facts">
        {operator && <Fact term="Consumer" value={subscription.consumer} />}
        <Fact term="Endpoint" value={endpointOf(subscription)} />
        <Fact term="Filters" value={filtersOf(subscription)} />
        <Fact term="Status" value={statusOf(subscription)} />
        {subscription.lastError && <Fact term="Last error" value={subscription.lastError} />}
        {push && <Fact term="Health" value={healthOf(subscription)} />}
        {subscription.health?.lastError && <Fact term="Endpoint's last error" value={subscription.health.lastError} />}
        {subscription.backlog !== undefined && <Fact term="Backlog" value={String(subscription.backlog)} />}
        {subscription.deadLetters !== undefined && <Fact term="Dead letters" value={String(subscription.deadLetters)} />}
        <div>
          <dt>Created</dt>
          <dd>
            <Time iso={subscription.created} />
          </dd>
        </div>
      </dl>
      <div class="actions">
        {mine && push && (
          <>
            <button type="button" onClick={ping}>
              Ping
            </button>
            <button type="button" onClick={validate}>
              Validate
            </button>
            <button type="button" onClick={rotate}>
              Rotate secret
            </button>
          </>
        )}
        {mine && (
          <>
            <button type="button" aria-expanded={replaying} onClick={() => setReplaying(!replaying)}>
              Replay
            </button>
            <button type="button" aria-expanded={deleting} onClick={() => setDeleting(!deleting)}>
              Delete
            </button>
          </>
        )}
        <button type="button" onClick={() => void Promise.all([reload(), deliveries.reload()])}>
          Refresh
        </button>
      </div>
      {operator && (
        <div class="actions panel">
          {subscription.status === 'disabled' ? (
            <button type="button" onClick={enable}>
              Enable
            </button>
          ) : (
            <>
              <label for="disable-reason">Reason for disabling</label>
              <input id="disable-reason" value={reason} onInput={(e) => setReason((e.currentTarget as HTMLInputElement).value)} />
              <button type="button" onClick={disable}>
                Disable
              </button>
            </>
          )}
        </div>
      )}
      {deleting && (
        <div class="panel">
          <p>Delete subscription {subscription.id}? Its deliveries stop; this cannot be undone.</p>
          <button type="button" class="danger" onClick={() => void remove()}>
            Confirm delete
          </button>{' '}
          <button type="button" onClick={() => setDeleting(false)}>
            Cancel
          </button>
        </div>
      )}
      {replaying && <ReplayForm path={path} onStarted={() => setReplaying(false)} />}
      {secret && <SecretShownOnce id={subscription.id} secret={secret} />}
      <DeliveriesTable subscriptionId={subscription.id} list={deliveries.value} />
      {deliveries.value?.next && (
        <button type="button" onClick={() => setDeliveryPages(deliveryPages + 1)}>
          More deliveries
        </button>
      )}
    </section>
  );
}

function Fact(props: { term: string; value: string }) {
  return (
    <div>
      <dt>{props.term}</dt>
      <dd>{props.value}</dd>
    </div>
  );
}

/** The first `pages` pages of the subscription's deliveries, oldest first. */
async function deliveriesOf(path: string, pages: number): Promise<DeliveryList> {
  const deliveries: DeliveryList['deliveries'] = [];
  let next: string | undefined = `${path}/deliveries?size=100`;
  for (let page = 0; next && page < pages; page++) {
    const list: DeliveryList = await call<DeliveryList>(next);
    deliveries.push(...list.deliveries);
    next = list.next?.replace(apiBase, '');
  }
  return { count: deliveries.length, deliveries, ...(next ? { next } : {}) };
}

function DeliveriesTable(props: { subscriptionId: number; list: DeliveryList | undefined }) {
  return (
    <div class="table-wrap">
      <table>
        <caption>Deliveries</caption>
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last status code</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {props.list?.deliveries.map((d) => (
            <tr key={d.id}>
              <td>
                <a href={`#/subscriptions/${props.subscriptionId}/deliveries/${d.id}`}>{d.eventId ?? `delivery ${d.id}`}</a>
              </td>
              <td>{d.status}</td>
              <td class="number">{d.attempts}</td>
              <td class="number">{dash(d.lastStatusCode)}</td>
              <td>
                <Time iso={d.created} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.list && props.list.deliveries.length === 0 && <p>No deliveries yet.</p>}
    </div>
  );
}
