import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import axe from 'axe-core';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, it } from 'vitest';
import { chromiumInstall, findChromium } from './chromium.js';

const chromiumPath = findChromium();

/**
 * Inside a `describe`: when Chromium is absent, registers a skipped test saying so and how to install it (never
 * a pass) and answers true, so the caller registers nothing else. The same shape as `skippedIfUnavailable`.
 */
export function skippedWithoutChromium(): boolean {
  if (chromiumPath !== null) return false;
  const looked = process.env.HERALD_CHROMIUM ?? '`chromium` or `chromium-browser` on PATH';
  it.skip(`SKIPPED: no Chromium found (looked for ${looked}); install it with \`${chromiumInstall}\``, () => {});
  return true;
}

/** Launches headless Chromium; close it when done. Only call it after `skippedWithoutChromium()` said false. */
export async function launchChromium(): Promise<Browser> {
  if (chromiumPath === null) throw new Error(`no Chromium found; install it with \`${chromiumInstall}\``);
  return chromium.launch({
    executablePath: chromiumPath,
    // No sandbox: CI containers run as root, where Chromium's sandbox refuses to start. Background
    // networking off so the only requests are the page's own (the no-network test counts them).
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** One browser for a whole test file (starting Chromium costs about a second): registers its launch and close. */
export function sharedBrowser(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (!browser) throw new Error('the browser is not launched yet');
    return browser;
  };
}

/** What axe reports, trimmed to what a failure message needs. */
interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: readonly { readonly target: readonly unknown[]; readonly failureSummary?: string }[];
}

/**
 * Runs axe-core on the page as it is now and throws, listing them, when it finds serious or critical
 * violations. The script is evaluated through the DevTools protocol, which the console's Content-Security-Policy
 * does not govern (a `<script>` tag would be refused, rightly).
 */
export async function expectNoSeriousAxeViolations(page: Page, what: string): Promise<void> {
  const injected = await page.evaluate('typeof globalThis.axe === "object"');
  if (!injected) await page.evaluate(axe.source);
  const violations = (await page.evaluate(
    `globalThis.axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)`,
  )) as AxeViolation[];
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (serious.length === 0) return;
  const lines = serious.flatMap((v) => [
    `${v.impact}: ${v.id} — ${v.help}`,
    ...v.nodes.map((n) => `    at ${JSON.stringify(n.target)}${n.failureSummary ? `: ${n.failureSummary.replace(/\n/g, ' ')}` : ''}`),
  ]);
  console.error(`axe on ${what}:\n${lines.join('\n')}`);
  throw new Error(`axe found ${serious.length} serious or critical violation(s) on ${what}:\n${lines.join('\n')}`);
}

/**
 * Where screenshots go: `test-results/console/<engine>/` (git-ignored) by default, so a normal `npm test` leaves
 * the tree clean; `HERALD_CONSOLE_SCREENSHOTS=docs/console` writes the SQLite run's straight into the docs
 * (one engine, so the committed pictures come from one run; SQLite because it always runs).
 */
export function screenshotFolder(engine: string): string | null {
  const docs = process.env.HERALD_CONSOLE_SCREENSHOTS;
  if (docs) return engine === 'sqlite' ? docs : null;
  return join('test-results', 'console', engine);
}

/** Saves a screenshot of the whole page as `<name>.png` in the engine's screenshot folder. */
export async function saveScreenshot(page: Page, engine: string, name: string): Promise<void> {
  const folder = screenshotFolder(engine);
  if (folder === null) return;
  mkdirSync(folder, { recursive: true });
  await page.screenshot({ path: join(folder, `${name}.png`), fullPage: true });
}

/**
 * Saves a page's screenshot and checks it with axe: what every console page gets once it shows its content. The
 * screenshot comes first, so a page axe fails on is there to look at.
 */
export async function checkPage(page: Page, engine: string, name: string): Promise<void> {
  await saveScreenshot(page, engine, name);
  await expectNoSeriousAxeViolations(page, name);
}
