import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { checkPage, expectNoSeriousAxeViolations, sharedBrowser, skippedWithoutChromium } from '../support/browser.js';
import { describeEachEngine } from '../support/engines.js';
import { accept, type Receiver, startReceiver } from '../support/receiver.js';
import {
  closeKeepingPromises,
  activeSubscription,
  type ConsoleHerald,
  type ConsoleTab,
  type Consumer,
  consumer,
  eventually,
  navigate,
  openConsole,
  rowsWith,
  shownAfterReshowing,
  shownAlert,
  signIn,
  startConsoleHerald,
  table,
} from './console-session.js';

// A ceiling for a slow, shared machine (each test waits on a real process, a receiver and a browser), not a
// timing assertion.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

/** A delivery as `GET /subscriptions/{id}/deliveries` lists it (the fields these tests read). */
interface Delivery {
  readonly id: number | string;
  readonly eventId?: string;
  readonly status: string;
}

describeEachEngine('the console for a consumer, on $name', (engine) => {
  if (skippedWithoutChromium()) return;
  const browser = sharedBrowser();
  let herald: ConsoleHerald;
  let receiver: Receiver;
  let tab: ConsoleTab;
  let me: Consumer;

  beforeAll(async () => {
    receiver = await startReceiver();
    herald = await startConsoleHerald(engine);
    me = await consumer('ttd');
  });
  afterAll(async () => {
    await herald?.stop();
    await receiver?.close();
  });
  beforeEach(async () => {
    receiver.behave(accept);
    tab = await openConsole(browser(), herald);
  });
  afterEach(() => closeKeepingPromises(tab));

  it('signs in with the "Token" field and shows the overview, each chart with its accessible name', async () => {
    const { page } = tab;
    await page.getByLabel('Token', { exact: true }).waitFor();
    await checkPage(page, engine.name, 'sign-in');
    await signIn(page, me.token);
    await navigate(page, 'Overview');
    for (const chart of [
      'Published events per second',
      'Deliveries per second',
      'Publish-to-delivery latency',
      'Backlog',
      'Dead letters',
    ]) {
      await page.getByRole('img', { name: chart, exact: true }).waitFor();
    }
    // Empty just after the start; its screenshot is taken by the last test, once there is traffic to chart.
    await expectNoSeriousAxeViolations(page, 'overview');
  });

  it('creates a push subscription with the "New subscription" form and lists it in "Subscriptions"', async () => {
    const { page } = tab;
    const resource = 'urn:altinn:resource:console.form';
    await herald.publish({ resource });
    await herald.publish({ resource });
    await herald.publish({ resource, type: 'no.altinn.events.digitalt-dodsbo.lukket' });
    await signIn(page, me.token);
    await navigate(page, 'Subscriptions');
    await page.getByRole('button', { name: 'New subscription', exact: true }).click();
    await page.getByLabel('Endpoint', { exact: true }).fill(receiver.url);
    await page.getByLabel('Resource', { exact: true }).fill(resource);
    await page.getByLabel('Type', { exact: true }).fill('no.altinn.events.digitalt-dodsbo.opprettet');
    // The dry run counts what the filters match among the newest events: two of the three published here.
    await page.getByRole('button', { name: 'Dry run', exact: true }).click();
    const status = page.getByRole('status').filter({ hasText: /\d/ }).first();
    await status.waitFor();
    expect((await status.textContent())?.match(/\d+/)?.[0]).toBe('2');
    await checkPage(page, engine.name, 'new-subscription');
    await page.getByRole('button', { name: 'Create', exact: true }).click();

    // The console made it through the API, as the consumer: the API shows it as theirs.
    const listed = await eventually(async () => {
      const { body } = await herald.call<{ subscriptions?: { id: number | string; endPoint?: string; resourceFilter?: string }[] }>(
        me.token,
        'GET',
        '/subscriptions',
      );
      return body.subscriptions?.find((s) => s.resourceFilter === resource);
    }, 'the form\'s subscription in the API');
    expect(listed.endPoint).toBe(receiver.url);

    const subscriptions = table(page, 'Subscriptions');
    await shownAfterReshowing(rowsWith(subscriptions, receiver.url), () => navigate(page, 'Subscriptions'), 'the new subscription');
    await checkPage(page, engine.name, 'subscriptions');
    await rowsWith(subscriptions, receiver.url).getByRole('link', { name: String(listed.id), exact: true }).click();
    await page.getByRole('heading', { name: `Subscription ${listed.id}`, exact: true }).waitFor();
  });

  it('shows a published event\'s delivery in "Deliveries" and its attempts in "Attempts"', async () => {
    const { page } = tab;
    const resource = 'urn:altinn:resource:console.deliveries';
    const { id } = await activeSubscription(herald, me, { endPoint: receiver.url, resourceFilter: resource });
    const eventId = crypto.randomUUID();
    await herald.publish({ id: eventId, resource });
    const delivery = await eventually(async () => {
      const { body } = await herald.call<{ deliveries: Delivery[] }>(me.token, 'GET', `/subscriptions/${id}/deliveries`);
      return body.deliveries.find((d) => d.eventId === eventId && d.status === 'delivered');
    }, 'the event to be delivered');

    await signIn(page, me.token);
    await navigate(page, 'Subscriptions');
    await table(page, 'Subscriptions').getByRole('link', { name: String(id), exact: true }).click();
    await page.getByRole('heading', { name: `Subscription ${id}`, exact: true }).waitFor();
    const deliveries = table(page, 'Deliveries');
    await rowsWith(deliveries, eventId).first().waitFor();
    await checkPage(page, engine.name, 'subscription');

    await rowsWith(deliveries, eventId).getByRole('link').first().click();
    await page.waitForURL(`**/console/#/subscriptions/${id}/deliveries/${delivery.id}`);
    // The receiver answered 200 at the first attempt.
    await rowsWith(table(page, 'Attempts'), '200').first().waitFor();
    await page.getByRole('button', { name: 'Resend', exact: true }).waitFor();
    await checkPage(page, engine.name, 'delivery');
  });

  it('shows a dead letter in "Dead letters" while the receiver fails, and "Redrive" clears it once it is fixed', async () => {
    const { page } = tab;
    const resource = 'urn:altinn:resource:console.dead';
    const { id } = await activeSubscription(herald, me, { endPoint: receiver.url, resourceFilter: resource });
    receiver.behave(() => ({ status: 503, body: 'down for maintenance' }));
    const eventId = crypto.randomUUID();
    await herald.publish({ id: eventId, resource });
    const dead = await eventually(async () => {
      const { body } = await herald.call<{ deliveries: Delivery[] }>(me.token, 'GET', `/subscriptions/${id}/deliveries?status=dead`);
      return body.deliveries.find((d) => d.eventId === eventId);
    }, 'the delivery to die');

    await signIn(page, me.token);
    await navigate(page, 'Dead letters');
    const deadLetters = table(page, 'Dead letters');
    await shownAfterReshowing(rowsWith(deadLetters, eventId), () => navigate(page, 'Dead letters'), 'the dead letter');
    await page.getByRole('button', { name: `Resend delivery ${dead.id}`, exact: true }).waitFor();
    await checkPage(page, engine.name, 'dead-letters');

    receiver.behave(accept);
    await page.getByRole('button', { name: `Redrive subscription ${id}`, exact: true }).click();
    await rowsWith(deadLetters, eventId).first().waitFor({ state: 'detached' });
    await eventually(async () => {
      const { body } = await herald.call<{ status: string }>(me.token, 'GET', `/subscriptions/${id}/deliveries/${dead.id}`);
      return body.status === 'delivered';
    }, 'the redriven delivery to arrive');
    expect(receiver.events().filter((r) => r.json.id === eventId).length).toBeGreaterThanOrEqual(4);
  });

  it('replays a subscription\'s events after showing how many would be replayed, on "Confirm replay"', async () => {
    const { page } = tab;
    const resource = 'urn:altinn:resource:console.replay';
    const { id } = await activeSubscription(herald, me, { endPoint: receiver.url, resourceFilter: resource });
    const eventIds = [crypto.randomUUID(), crypto.randomUUID()];
    for (const eventId of eventIds) await herald.publish({ id: eventId, resource });
    const sentTimes = (eventId: string) => receiver.events().filter((r) => r.json.id === eventId).length;
    await eventually(async () => eventIds.every((e) => sentTimes(e) === 1), 'both events delivered once');

    await signIn(page, me.token);
    await page.evaluate(`location.hash = '#/subscriptions/${id}'`);
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    // The whole log holds two events this subscription matches: the dry run's count comes before anything is sent.
    await page.getByText('2 events would be replayed', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Confirm replay', exact: true }).click();
    await eventually(async () => eventIds.every((e) => sentTimes(e) === 2), 'both events sent again by the replay');
  });

  it('refuses a token Herald does not accept, showing why in an alert and staying signed out', async () => {
    const { page } = tab;
    await page.getByLabel('Token', { exact: true }).fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await shownAlert(page).waitFor();
    expect(await page.getByRole('button', { name: 'Sign out', exact: true }).count()).toBe(0);
  });

  it('signs in and reaches the subscriptions table with the keyboard alone', async () => {
    const { page } = tab;
    const resource = 'urn:altinn:resource:console.keyboard';
    const { id } = await activeSubscription(herald, me, { endPoint: receiver.url, resourceFilter: resource });
    await focusWithTab(page, page.getByLabel('Token', { exact: true }), 'the "Token" field');
    await page.keyboard.insertText(me.token);
    await focusWithTab(page, page.getByRole('button', { name: 'Sign in', exact: true }), 'the "Sign in" button');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor();
    await focusWithTab(
      page,
      page.getByRole('navigation').getByRole('link', { name: 'Subscriptions', exact: true }),
      'the "Subscriptions" link',
    );
    await page.keyboard.press('Enter');
    const link = table(page, 'Subscriptions').getByRole('link', { name: String(id), exact: true });
    await focusWithTab(page, link, `subscription ${id}'s link in the table`);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: `Subscription ${id}`, exact: true }).waitFor();
  });

  it('keeps the token out of every URL, localStorage and cookies, and forgets it on "Sign out"', async () => {
    const { page, requests } = tab;
    const resource = 'urn:altinn:resource:console.token';
    const { id } = await activeSubscription(herald, me, { endPoint: receiver.url, resourceFilter: resource });
    const signature = me.token.split('.')[2] as string;
    await signIn(page, me.token);
    const urls = [page.url()];
    for (const link of ['Overview', 'Subscriptions', 'Dead letters', 'Events', 'Filters']) {
      await navigate(page, link);
      urls.push(page.url());
    }
    await page.evaluate(`location.hash = '#/subscriptions/${id}'`);
    await page.getByRole('heading', { name: `Subscription ${id}`, exact: true }).waitFor();
    urls.push(page.url());
    for (const url of [...urls, ...requests]) expect(url).not.toContain(signature);
    const kept = (await page.evaluate('JSON.stringify(Object.entries(localStorage)) + document.cookie')) as string;
    expect(kept).not.toContain(signature);

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByLabel('Token', { exact: true }).waitFor();
    const left = (await page.evaluate(
      'JSON.stringify([Object.entries(sessionStorage), Object.entries(localStorage)]) + document.cookie',
    )) as string;
    expect(left).not.toContain(signature);
  });

  // Last, so the tests above have published and delivered: the overview samples every 10 s.
  it('charts the events published and delivered on the overview', async () => {
    const { page } = tab;
    await eventually(
      async () => {
        const { body } = await herald.call<{ samples: { publishedPerSecond: number; deliveredPerSecond: number }[] }>(
          me.token,
          'GET',
          '/overview',
        );
        return body.samples.length >= 2 && body.samples.some((s) => s.publishedPerSecond > 0 && s.deliveredPerSecond > 0);
      },
      'an overview sample with traffic',
      800,
    );
    await signIn(page, me.token);
    await navigate(page, 'Overview');
    await page.getByRole('img', { name: 'Published events per second', exact: true }).waitFor();
    // Once the samples have loaded (the placeholder's wording is the console's, not the contract's).
    await page.getByText('No samples yet', { exact: false }).first().waitFor({ state: 'detached' });
    await checkPage(page, engine.name, 'overview');
  });
});

/** Presses Tab until `target` has the focus (at most 40 times): the way a keyboard user gets there. */
async function focusWithTab(page: Page, target: Locator, what: string): Promise<void> {
  await target.waitFor();
  for (let press = 0; press < 40; press++) {
    if (await target.evaluate((element) => element === element.ownerDocument.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`40 presses of Tab never reached ${what}`);
}
