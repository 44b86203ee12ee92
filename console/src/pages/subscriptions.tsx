import { useState } from 'preact/hooks';
import { apiBase, call } from '../api.js';
import { useIdentity } from '../identity.js';
import { endpointOf, filtersOf, healthOf, statusOf } from '../subscription-text.js';
import type { Subscription, SubscriptionList } from '../types.js';
import { dash, PageHeading, useLoaded } from '../ui.js';
import { NewSubscriptionForm, SecretShownOnce } from './new-subscription.js';

/** Every page of a subscriptions list: the caller's own, or (an operator's `consumer=*`) everyone's. */
export async function allSubscriptions(everyone: boolean): Promise<Subscription[]> {
  const found: Subscription[] = [];
  let path: string | undefined = `/subscriptions?size=100${everyone ? '&consumer=*' : ''}`;
  // Bounded: a console is no place to page through more than a few thousand.
  for (let page = 0; path && page < 50; page++) {
    const list: SubscriptionList = await call<SubscriptionList>(path);
    found.push(...list.subscriptions);
    path = list.next && `${list.next.replace(apiBase, '')}${everyone && !list.next.includes('consumer=') ? '&consumer=*' : ''}`;
  }
  return found;
}

export function SubscriptionsPage() {
  const identity = useIdentity();
  const operator = identity.me?.operator ?? false;
  const { value, reload } = useLoaded(() => allSubscriptions(operator), [operator], 5_000);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<Subscription | undefined>();
  // The backlog and dead-letter counts come with GET /me's release; without it they are not shown.
  const counts = identity.features.me;
  return (
    <section>
      <PageHeading>Subscriptions</PageHeading>
      <div class="actions">
        <button type="button" aria-expanded={creating} onClick={() => setCreating(!creating)}>
          New subscription
        </button>
        <button type="button" onClick={() => void reload()}>
          Refresh
        </button>
      </div>
      {creating && (
        <NewSubscriptionForm
          onCreated={(subscription) => {
            setCreated(subscription);
            setCreating(false);
            void reload();
          }}
        />
      )}
      {created?.secret && <SecretShownOnce id={created.id} secret={created.secret} />}
      <div class="table-wrap">
        <table>
          <caption>Subscriptions</caption>
          <thead>
            <tr>
              <th scope="col">Id</th>
              {operator && <th scope="col">Consumer</th>}
              <th scope="col">Endpoint</th>
              <th scope="col">Filters</th>
              <th scope="col">Status</th>
              <th scope="col">Health</th>
              {counts && <th scope="col">Backlog</th>}
              {counts && <th scope="col">Dead letters</th>}
            </tr>
          </thead>
          <tbody>
            {value?.map((s) => (
              <tr key={s.id}>
                <td>
                  <a href={`#/subscriptions/${s.id}`}>{s.id}</a>
                </td>
                {operator && <td>{s.consumer}</td>}
                <td class="wrap">{endpointOf(s)}</td>
                <td class="wrap">{filtersOf(s)}</td>
                <td>{statusOf(s)}</td>
                <td>{healthOf(s)}</td>
                {counts && <td class="number">{dash(s.backlog)}</td>}
                {counts && <td class="number">{dash(s.deadLetters)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {value && value.length === 0 && <p>No subscriptions yet.</p>}
    </section>
  );
}
