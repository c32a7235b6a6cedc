import { test as base, expect, type Browser, type BrowserContext, type Page, type TestInfo } from '@playwright/test';
import { hubUrl, type TestUser } from './hub-api.js';

export interface Actor {
  user: TestUser;
  page: Page;
  context: BrowserContext;
}

/** Opens the console in a fresh browser context (its own session storage) and signs in through the form. */
export interface OpenOptions {
  viewport?: { width: number; height: number };
  /** Runs before the first navigation, e.g. to route the page's websocket. */
  beforeGoto?: (page: Page) => Promise<void>;
  /** Another hub than the suite's, e.g. one a spec started with a clock it controls. */
  url?: string;
  /** The viewer's IANA time zone, for specs about local times. */
  timezoneId?: string;
}

export async function openAs(browser: Browser, user: TestUser, options: OpenOptions = {}): Promise<Actor> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 860 }, ...(options.timezoneId ? { timezoneId: options.timezoneId } : {}) });
  const page = await context.newPage();
  watchConsole(page);
  await options.beforeGoto?.(page);
  await page.goto(options.url ?? hubUrl());
  await signIn(page, user.token, options.url);
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
  return { user, page, context };
}

const problems = new WeakMap<Page, string[]>();

/** Records CSP violations and uncaught errors, so a spec can assert the console stayed clean. */
function watchConsole(page: Page): void {
  const seen: string[] = [];
  problems.set(page, seen);
  page.on('pageerror', (error) => seen.push(`uncaught: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) seen.push(message.text());
  });
}

export const consoleProblems = (page: Page): string[] => problems.get(page) ?? [];

export async function signIn(page: Page, token: string, url = hubUrl()): Promise<void> {
  await page.getByLabel('Hub URL').fill(url);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function shot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

export const inboxRow = (page: Page, text: string) => page.getByRole('option').filter({ hasText: text });
export const detail = (page: Page) => page.getByRole('region', { name: 'Request detail' });

export async function openTab(page: Page, name: 'Inbox' | 'New request' | 'My requests' | 'History' | 'Users'): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name }).click();
}

/** My request card for a resource, on the My requests tab. */
export const myRequest = (page: Page, resource: string) => page.locator('article.mine').filter({ hasText: resource });

/** Each test's browser contexts are closed at its end, whatever happened. */
export const test = base.extend<{ actors: { open: (user: TestUser, options?: OpenOptions) => Promise<Actor> } }>({
  actors: async ({ browser }, use) => {
    const opened: Actor[] = [];
    await use({
      open: async (user, options) => {
        const actor = await openAs(browser, user, options);
        opened.push(actor);
        return actor;
      },
    });
    const found = opened.flatMap((actor) => consoleProblems(actor.page).map((text) => `${actor.user.name}: ${text}`));
    for (const actor of opened) await actor.context.close();
    expect(found, 'no CSP violations or uncaught errors in the console').toEqual([]);
  },
});

export { expect };
