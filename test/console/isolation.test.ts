import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { checkPage, sharedBrowser, skippedWithoutChromium } from '../support/browser.js';
import { describeEachEngine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
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
  operator,
  rowsWith,
  shownAlert,
  signIn,
  startConsoleHerald,
  table,
} from './console-session.js';

// A ceiling for a slow, shared machine, not a timing assertion.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

describeEachEngine('the console between consumers, on $name', (engine) => {
  if (skippedWithoutChromium()) return;
  const browser = sharedBrowser();
  let herald: ConsoleHerald;
  let ttdReceiver: Receiver;
  let digdirReceiver: Receiver;
  let tab: ConsoleTab;
  let ttd: Consumer;
  let digdir: Consumer;
  let ttdSubscription: string;
  let digdirSubscription: string;
  let ttdDeadLetter: string;
  const resource = 'urn:altinn:resource:console.isolation';

  /**
   * Two consumers on one Herald: /org/ttd with a subscription holding a dead letter (its receiver always
   * fails), /org/digdir with a healthy one. Both see the same events; only their own subscriptions.
   */
  beforeAll(async () => {
    ttdReceiver = await startReceiver(undefined, '/ttd-hook');
    digdirReceiver = await startReceiver(undefined, '/digdir-hook');
    herald = await startConsoleHerald(engine);
    [ttd, digdir] = await Promise.all([consumer('ttd'), consumer('digdir')]);
    ttdSubscription = String((await activeSubscription(herald, ttd, { endPoint: ttdReceiver.url, resourceFilter: resource })).id);
    digdirSubscription = String((await activeSubscription(herald, digdir, { endPoint: digdirReceiver.url, resourceFilter: resource })).id);
    ttdReceiver.behave(() => ({ status: 500 }));
    const eventId = crypto.randomUUID();
    await herald.publish({ id: eventId, resource });
    ttdDeadLetter = await eventually(async () => {
      const { body } = await herald.call<{ deliveries: { id: number }[] }>(
        ttd.token,
        'GET',
        `/subscriptions/${ttdSubscription}/deliveries?status=dead`,
      );
      return body.deliveries[0] && String(body.deliveries[0].id);
    }, '/org/ttd\'s dead letter');
  });
  afterAll(async () => {
    await herald?.stop();
    await ttdReceiver?.close();
    await digdirReceiver?.close();
  });
  beforeEach(async () => {
    tab = await openConsole(browser(), herald);
  });
  afterEach(() => closeKeepingPromises(tab));

  it('never shows a consumer another consumer\'s subscriptions: not in the list, not by address, not in dead letters', async () => {
    const { page } = tab;
    await signIn(page, digdir.token);
    await navigate(page, 'Subscriptions');
    const subscriptions = table(page, 'Subscriptions');
    // The list has loaded (digdir's own row is there) before its absences mean anything.
    await subscriptions.getByRole('link', { name: digdirSubscription, exact: true }).waitFor();
    expect(await rowsWith(subscriptions, ttdReceiver.url).count()).toBe(0);
    expect(await subscriptions.getByRole('link', { name: ttdSubscription, exact: true }).count()).toBe(0);
    expect(await subscriptions.getByRole('columnheader', { name: 'Consumer', exact: true }).count()).toBe(0);

    // Straight to /org/ttd's subscription by its address: the API's 404, shown as an error, and nothing of it
    // (the heading may repeat the id from the address; no endpoint, no deliveries, no actions).
    await page.evaluate(`location.hash = '#/subscriptions/${ttdSubscription}'`);
    await shownAlert(page).waitFor();
    expect(await page.getByText(ttdReceiver.url).count()).toBe(0);
    expect(await table(page, 'Deliveries').count()).toBe(0);
    for (const action of ['Ping', 'Replay', 'Delete', 'Disable']) {
      expect(await page.getByRole('button', { name: action, exact: true }).count()).toBe(0);
    }
    await page.evaluate(`location.hash = '#/subscriptions/${ttdSubscription}/deliveries/${ttdDeadLetter}'`);
    await shownAlert(page).waitFor();
    expect(await table(page, 'Attempts').getByRole('cell').count()).toBe(0);

    await navigate(page, 'Dead letters');
    const deadLetters = table(page, 'Dead letters');
    await deadLetters.waitFor();
    expect(await deadLetters.getByRole('link', { name: ttdSubscription, exact: true }).count()).toBe(0);
    expect(await page.getByRole('button', { name: `Redrive subscription ${ttdSubscription}`, exact: true }).count()).toBe(0);

    // And the owner does see it, so the absences above are isolation, not an empty page.
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await signIn(page, ttd.token);
    await navigate(page, 'Dead letters');
    await page.getByRole('button', { name: `Redrive subscription ${ttdSubscription}`, exact: true }).waitFor();
  });

  it('shows an operator every consumer\'s subscriptions, with their consumer, and lets them disable and enable one', async () => {
    const { page } = tab;
    const ops = await operator();
    await signIn(page, ops.token);
    await navigate(page, 'Subscriptions');
    const subscriptions = table(page, 'Subscriptions');
    await subscriptions.getByRole('columnheader', { name: 'Consumer', exact: true }).waitFor();
    await rowsWith(subscriptions, ttd.consumer).getByRole('link', { name: ttdSubscription, exact: true }).waitFor();
    await rowsWith(subscriptions, digdir.consumer).getByRole('link', { name: digdirSubscription, exact: true }).waitFor();
    await checkPage(page, engine.name, 'operator-subscriptions');

    await subscriptions.getByRole('link', { name: digdirSubscription, exact: true }).click();
    await page.getByRole('heading', { name: `Subscription ${digdirSubscription}`, exact: true }).waitFor();
    // The owner's own actions are not the operator's.
    expect(await page.getByRole('button', { name: 'Delete', exact: true }).count()).toBe(0);
    await page.getByRole('button', { name: 'Disable', exact: true }).click();
    await page.getByRole('button', { name: 'Enable', exact: true }).waitFor();
    await checkPage(page, engine.name, 'operator-subscription');
    const disabled = await herald.call<{ status: string; disabledBy?: string }>(digdir.token, 'GET', `/subscriptions/${digdirSubscription}`);
    expect(disabled.body).toMatchObject({ status: 'disabled', disabledBy: 'operator' });

    await page.getByRole('button', { name: 'Enable', exact: true }).click();
    await page.getByRole('button', { name: 'Disable', exact: true }).waitFor();
    const enabled = await herald.call<{ status: string }>(digdir.token, 'GET', `/subscriptions/${digdirSubscription}`);
    expect(enabled.body.status).not.toBe('disabled');
  });

  it('shows a consumer no "Disable" or "Enable" on their own subscription: those are the operator\'s', async () => {
    const { page } = tab;
    await signIn(page, digdir.token);
    await page.evaluate(`location.hash = '#/subscriptions/${digdirSubscription}'`);
    await page.getByRole('heading', { name: `Subscription ${digdirSubscription}`, exact: true }).waitFor();
    await page.getByRole('button', { name: 'Ping', exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'Disable', exact: true }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Enable', exact: true }).count()).toBe(0);
  });
});
