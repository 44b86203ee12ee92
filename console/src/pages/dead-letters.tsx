import { apiBase, call } from '../api.js';
import { owns, useIdentity } from '../identity.js';
import { useNotices } from '../notices.js';
import type { Delivery, DeliveryList, Subscription } from '../types.js';
import { dash, PageHeading, Time, useLoaded } from '../ui.js';
import { allSubscriptions } from './subscriptions.js';

interface DeadLetter {
  readonly subscription: Subscription;
  readonly delivery: Delivery;
}

/** Dead letters one subscription shows at most here; the API pages through the rest. */
const perSubscription = 500;

/**
 * Every dead letter across the caller's subscriptions (an operator's: every consumer's), gathered from each
 * subscription's `deliveries?status=dead`. Subscriptions whose `deadLetters` count says 0 are not asked.
 */
async function deadLetters(everyone: boolean): Promise<DeadLetter[]> {
  const subscriptions = (await allSubscriptions(everyone)).filter((s) => s.deadLetters !== 0);
  const lists = await Promise.all(
    subscriptions.map(async (subscription) => {
      const found: DeadLetter[] = [];
      let next: string | undefined = `/subscriptions/${subscription.id}/deliveries?status=dead&size=100`;
      while (next && found.length < perSubscription) {
        const page: DeliveryList = await call<DeliveryList>(next);
        found.push(...page.deliveries.map((delivery) => ({ subscription, delivery })));
        next = page.next?.replace(apiBase, '');
      }
      return found;
    }),
  );
  return lists.flat();
}

export function DeadLettersPage() {
  const identity = useIdentity();
  const { say, fail } = useNotices();
  const operator = identity.me?.operator ?? false;
  const { value, reload } = useLoaded(() => deadLetters(operator), [operator], 5_000);
  const subscriptions = [...new Map((value ?? []).map((d) => [d.subscription.id, d.subscription])).values()];

  const redrive = async (id: number) => {
    try {
      const answer = await call<{ redriven: number }>(`/subscriptions/${id}/deliveries/redrive`, { method: 'POST' });
      say(`Subscription ${id}: ${answer.redriven} dead letters queued again.`);
    } catch (error) {
      fail(error);
    }
    void reload();
  };
  const resend = async (letter: DeadLetter) => {
    try {
      await call(`/subscriptions/${letter.subscription.id}/deliveries/${letter.delivery.id}/resend`, { method: 'POST' });
      say(`Delivery ${letter.delivery.id} queued to be sent again.`);
    } catch (error) {
      fail(error);
    }
    void reload();
  };

  return (
    <section>
      <PageHeading>Dead letters</PageHeading>
      <p>
        Deliveries that ran out of attempts{operator ? ', across every consumer' : ' across your subscriptions'}. Redrive
        queues a subscription&apos;s dead letters again with a fresh retry ladder; Resend sends one delivery again.
      </p>
      <div class="actions">
        <button type="button" onClick={() => void reload()}>
          Refresh
        </button>
      </div>
      {subscriptions.length > 0 && (
        <ul class="redrives" aria-label="Subscriptions with dead letters">
          {subscriptions.map((s) => (
            <li key={s.id}>
              {/* The owner and operators may redrive (docs/dead-letters.md). */}
              {(owns(identity, s.consumer) || operator) && (
                <button type="button" onClick={() => void redrive(s.id)}>
                  Redrive subscription {s.id}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <div class="table-wrap">
        <table>
          <caption>Dead letters</caption>
          <thead>
            <tr>
              <th scope="col">Subscription</th>
              <th scope="col">Delivery</th>
              <th scope="col">Event</th>
              <th scope="col">Last status code</th>
              <th scope="col">Last error</th>
              <th scope="col">Dead since</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {value?.map((letter) => (
              <tr key={`${letter.subscription.id}/${letter.delivery.id}`}>
                <td>
                  <a href={`#/subscriptions/${letter.subscription.id}`}>{letter.subscription.id}</a>
                </td>
                <td>
                  <a href={`#/subscriptions/${letter.subscription.id}/deliveries/${letter.delivery.id}`}>{letter.delivery.id}</a>
                </td>
                <td>{dash(letter.delivery.eventId)}</td>
                <td class="number">{dash(letter.delivery.lastStatusCode)}</td>
                <td class="wrap">{dash(letter.delivery.lastError)}</td>
                <td>
                  <Time iso={letter.delivery.deadAt} />
                </td>
                <td>
                  <button type="button" aria-label={`Resend delivery ${letter.delivery.id}`} onClick={() => void resend(letter)}>
                    Resend
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {value && value.length === 0 && <p>No dead letters.</p>}
      </div>
    </section>
  );
}
