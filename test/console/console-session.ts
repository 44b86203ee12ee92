import type { ChildProcess } from 'node:child_process';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import type { Engine, TestDatabase } from '../support/engines.js';
import { expect } from 'vitest';
import { startHeraldProcess } from '../support/herald-process.js';
import { sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';

const api = '/events/api/v1';

/** The scope the console's operators hold (contracts: `herald:operator`). */
export const operatorScope = 'herald:operator';

/** A consumer's tokens: one to sign in to the console with, one to publish with over HTTP. */
export interface Consumer {
  readonly consumer: string;
  readonly token: string;
}

/** A consumer token (subscribe scope only: the console needs no more) for `/org/<org>`. */
export async function consumer(org: string): Promise<Consumer> {
  return { consumer: `/org/${org}`, token: await testToken({ scope: 'altinn:events.subscribe', claims: { org } }) };
}

/** An operator's token, as `npx herald token --scope "herald:operator altinn:events.subscribe"` makes. */
export async function operator(org = 'herald-ops'): Promise<Consumer> {
  return {
    consumer: `/org/${org}`,
    token: await testToken({ scope: `${operatorScope} altinn:events.subscribe`, claims: { org } }),
  };
}

/** `herald serve` as a process on a fresh database of `engine`, for a browser to open. */
export interface ConsoleHerald {
  readonly base: string;
  /** The console's address: `<base>/console/`. */
  readonly consoleUrl: string;
  /** Herald's API with a token: a JSON body in, the status and parsed body out. */
  call<T = Record<string, unknown>>(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Publishes `event` over HTTP with a token holding the publish scope; resolves once it is stored. */
  publish(event: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A short retry ladder (three attempts, 100 ms apart) so a failing receiver makes a dead letter in well under a
 * second, a circuit breaker that does not trip in that time, and no read rate limit (the console reads often).
 */
const consoleTestSettings: Record<string, string> = {
  HERALD_ALLOW_PRIVATE_ENDPOINTS: 'true',
  HERALD_RETRY_SCHEDULE: '100ms,100ms',
  HERALD_ENDPOINT_FAILURE_THRESHOLD: '1000',
  HERALD_READ_RATE_LIMIT: '0',
};

export async function startConsoleHerald(engine: Engine, env: Record<string, string> = {}): Promise<ConsoleHerald> {
  const db: TestDatabase = await engine.create();
  let child: ChildProcess;
  let base: string;
  let said: () => string;
  try {
    // Warnings and worse only: what explains a process that died, without the request log.
    ({ child, base, said } = await startHeraldProcess(
      db.database,
      { HERALD_LOG_LEVEL: 'warn', ...consoleTestSettings, ...env },
      { ownAddress: true, readyWithinMs: 45_000 },
    ));
  } catch (error) {
    await db.destroy();
    throw error;
  }
  /** fetch, with what Herald last said when it cannot be reached (it died). */
  const reach = (url: string, init: RequestInit) =>
    fetch(url, init).catch((error: Error) => {
      throw new Error(`${error.message} (${url}): ${said()}`, { cause: error });
    });
  const publishToken = await testToken({ scope: 'altinn:events.publish', claims: { org: 'publisher' } });
  const call = async <T,>(token: string, method: string, path: string, body?: unknown) => {
    const response = await reach(`${base}${api}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  return {
    base,
    consoleUrl: `${base}/console/`,
    call,
    async publish(event) {
      const response = await reach(`${base}${api}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${publishToken}`, 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(sampleEvent(event)),
      });
      if (response.status !== 200) throw new Error(`publish answered ${response.status}: ${await response.text()}`);
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      await db.destroy();
    },
  };
}

/** Waits until `check` holds: a condition, not a duration, so a slow machine only makes the test slower. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, tries = 400): Promise<T> {
  for (let attempt = 0; attempt < tries; attempt++) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Creates a push subscription over the API for `who` and waits for its handshake to make it active. */
export async function activeSubscription(
  herald: ConsoleHerald,
  who: Consumer,
  spec: Record<string, unknown>,
): Promise<{ id: number | string }> {
  const created = await herald.call<{ id: number | string }>(who.token, 'POST', '/subscriptions', spec);
  if (created.status !== 201) throw new Error(`creating a subscription answered ${created.status}: ${JSON.stringify(created.body)}`);
  const id = created.body.id;
  await eventually(async () => {
    const { body } = await herald.call<{ status?: string }>(who.token, 'GET', `/subscriptions/${id}`);
    return body?.status === 'active';
  }, `subscription ${id} to become active`);
  return { id };
}

/** A browser tab on the console, with what it asked for beyond Herald and what its CSP refused. */
export interface ConsoleTab {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Every URL the page requested, Herald's included (the token must be in none of them). */
  readonly requests: string[];
  /** Requests to anywhere but Herald: the console promises none. */
  readonly foreignRequests: string[];
  /** Messages Chromium logged about the Content-Security-Policy refusing something. */
  readonly cspViolations: string[];
  close(): Promise<void>;
}

/** A fresh context (no storage shared with other tests) and page, on the console's address. */
export async function openConsole(browser: Browser, herald: ConsoleHerald, route = ''): Promise<ConsoleTab> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  // Long enough for a loaded machine, short enough that a missing control fails the test well inside its time.
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const origin = new URL(herald.base).origin;
  const requests: string[] = [];
  const foreignRequests: string[] = [];
  const cspViolations: string[] = [];
  page.on('request', (request) => {
    const url = request.url();
    requests.push(url);
    if (!url.startsWith('data:') && !url.startsWith('blob:') && new URL(url).origin !== origin) foreignRequests.push(url);
  });
  page.on('console', (message) => {
    if (/Content[- ]Security[- ]Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  await page.goto(`${herald.consoleUrl}${route}`);
  return { context, page, requests, foreignRequests, cspViolations, close: () => context.close() };
}

/**
 * Closes the tab and checks the console's promises on every page it opened: nothing fetched from anywhere but
 * Herald, nothing its own Content-Security-Policy had to refuse.
 */
export async function closeKeepingPromises(tab: ConsoleTab): Promise<void> {
  const { foreignRequests, cspViolations } = tab;
  await tab.close();
  expect(foreignRequests).toEqual([]);
  expect(cspViolations).toEqual([]);
}

/** Signs in with the "Token" field and the "Sign in" button, and waits for the "Sign out" button. */
export async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('Token', { exact: true }).fill(token);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor();
}

/** Follows one of the navigation's links ("Overview", "Subscriptions", "Dead letters", "Events", "Filters"). */
export async function navigate(page: Page, link: string): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: link, exact: true }).click();
}

/**
 * The alert the console shows an API problem in (its title and detail). The live region is always in the page,
 * empty until there is something to say: this is the region once it says something.
 */
export function shownAlert(page: Page): Locator {
  return page.getByRole('alert').filter({ hasText: /\S/ }).first();
}

/** A table by its accessible name. */
export function table(page: Page, name: string): Locator {
  return page.getByRole('table', { name, exact: true });
}

/** The table's rows that mention `text` (a subscription id, an endpoint, an event id). */
export function rowsWith(within: Locator, text: string): Locator {
  return within.getByRole('row').filter({ hasText: text });
}

/**
 * Waits for `locator` to show, showing the page again (`reshow`: following its navigation link, say) between
 * waits: a page that does not refresh itself still gets to show what the server has by now.
 */
export async function shownAfterReshowing(locator: Locator, reshow: () => Promise<void>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 30; attempt++) {
    try {
      await locator.first().waitFor({ timeout: 1_000 });
      return;
    } catch {
      await reshow();
    }
  }
  throw new Error(`the console never showed ${what}`);
}
