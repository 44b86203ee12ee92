import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { checkPage, sharedBrowser, skippedWithoutChromium } from '../support/browser.js';
import { describeEachEngine } from '../support/engines.js';
import { sampleEvent } from '../support/test-app.js';
import {
  type ConsoleHerald,
  type ConsoleTab,
  type Consumer,
  closeKeepingPromises,
  consumer,
  navigate,
  openConsole,
  shownAlert,
  signIn,
  startConsoleHerald,
} from './console-session.js';

// A ceiling for a slow, shared machine, not a timing assertion.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

/** How soon a published event must show in "Live events": the acceptance bound. */
const liveWithinMs = 2_000;

describeEachEngine('the console\'s live events and filters playground, on $name', (engine) => {
  if (skippedWithoutChromium()) return;
  const browser = sharedBrowser();
  let herald: ConsoleHerald;
  let tab: ConsoleTab;
  let me: Consumer;

  beforeAll(async () => {
    herald = await startConsoleHerald(engine);
    me = await consumer('ttd');
  });
  afterAll(async () => {
    await herald?.stop();
  });
  beforeEach(async () => {
    tab = await openConsole(browser(), herald);
    await signIn(tab.page, me.token);
  });
  afterEach(() => closeKeepingPromises(tab));

  it('shows a published event in "Live events" within two seconds, newest first, and its JSON when opened', async () => {
    const { page } = tab;
    const resource = 'urn:altinn:resource:console.live';
    await navigate(page, 'Events');
    await page.getByLabel('Resource', { exact: true }).fill(resource);
    // The stream answers "from now": start it, and publish once Herald has answered the stream's request.
    const streaming = page.waitForResponse((response) => new URL(response.url()).pathname.endsWith('/events/stream'));
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    expect((await streaming).status()).toBe(200);
    await page.getByRole('button', { name: 'Stop', exact: true }).waitFor();

    const live = page.getByRole('list', { name: 'Live events', exact: true });
    const first = { id: crypto.randomUUID(), resource, type: 'console.live.first' };
    await herald.publish(first);
    await live.getByRole('button').filter({ hasText: 'console.live.first' }).waitFor({ timeout: liveWithinMs });
    const second = { id: crypto.randomUUID(), resource, type: 'console.live.second' };
    await herald.publish(second);
    await live.getByRole('button').filter({ hasText: 'console.live.second' }).waitFor({ timeout: liveWithinMs });
    // An event of another resource is filtered out by the stream, not shown.
    await herald.publish({ resource: 'urn:altinn:resource:console.elsewhere', type: 'console.live.elsewhere' });
    const third = { id: crypto.randomUUID(), resource, type: 'console.live.third' };
    await herald.publish(third);
    await live.getByRole('button').filter({ hasText: 'console.live.third' }).waitFor({ timeout: liveWithinMs });
    const shown = await live.getByRole('listitem').allTextContents();
    expect(shown.length).toBe(3);
    expect(shown[0]).toContain('console.live.third');
    expect(shown[2]).toContain('console.live.first');
    expect(shown.join('\n')).toContain(sampleEvent().source as string);
    await checkPage(page, engine.name, 'events');

    await live.getByRole('button').filter({ hasText: 'console.live.second' }).click();
    const json = page.getByRole('region', { name: 'Event JSON', exact: true });
    await json.getByText(second.id).first().waitFor();
    await checkPage(page, engine.name, 'event');

    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await page.getByRole('button', { name: 'Start', exact: true }).waitFor();
  });

  it('shows the API\'s refusal when the live tail has neither a resource nor a source', async () => {
    const { page } = tab;
    await navigate(page, 'Events');
    await page.getByLabel('Type', { exact: true }).fill('console.live.first');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await shownAlert(page).waitFor();
  });

  it('evaluates an expression on an event in the "Filters" playground, and shows a parse error as an alert', async () => {
    const { page } = tab;
    await navigate(page, 'Filters');
    await page.getByLabel('Expression', { exact: true }).fill("type LIKE 'no.altinn.events.%'");
    await page.getByLabel('Event', { exact: true }).fill(JSON.stringify(sampleEvent(), null, 2));
    await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
    const result = page.getByRole('region', { name: 'Result', exact: true });
    await result.getByText('true').first().waitFor();
    await checkPage(page, engine.name, 'filters');

    await page.getByLabel('Expression', { exact: true }).fill('type =');
    await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
    await shownAlert(page).waitFor();
  });
});
