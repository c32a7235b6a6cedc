import type { Page } from '@playwright/test';
import { expect, shot, test } from './support/fixtures.js';
import { hubUrl } from './support/hub-api.js';

type Ack = { data: unknown } | { error: { code: string; message: string } };

/**
 * Electron's preload, faked in the page (Electron cannot run here): `window.greenlight` for a signed-out
 * app whose sign-in through the browser waits until it is cancelled or the test ends it, and which,
 * as the main process does, cancels that wait when another sign-in starts. A token sign-in is answered
 * (refused) when the test says. The console's own page and renderer run as they do in the app.
 */
function fakeDesktopPreload(): void {
  const calls: string[] = [];
  let waiting: ((ack: Ack) => void) | null = null;
  let answerSignIn: () => void = () => undefined;
  const cancelled: Ack = { error: { code: 'CANCELLED', message: 'Sign-in through the browser was cancelled.' } };
  const endWaiting = (ack: Ack): boolean => {
    const end = waiting;
    waiting = null;
    end?.(ack);
    return end !== null;
  };
  const notUsed = async (): Promise<Ack> => ({ error: { code: 'INTERNAL', message: 'not used in this test' } });
  const api: Record<string, unknown> = {
    getSession: async (): Promise<Ack> => ({ data: { hubUrl: null, signedIn: false, state: 'signed-out', error: null } }),
    signInWithBrowser: (input: { hubUrl: string }): Promise<Ack> => {
      calls.push(`signInWithBrowser ${input.hubUrl}`);
      endWaiting(cancelled);
      return new Promise((resolve) => (waiting = resolve));
    },
    cancelSignInWithBrowser: async (): Promise<Ack> => {
      calls.push('cancelSignInWithBrowser');
      return { data: endWaiting(cancelled) };
    },
    signIn: async (input: { hubUrl: string }): Promise<Ack> => {
      calls.push('signIn');
      endWaiting(cancelled);
      await new Promise<void>((resolve) => (answerSignIn = resolve));
      const refused = { code: 'UNAUTHENTICATED', message: 'This token is not valid (unknown token). Ask an admin for a new one.' };
      return { data: { hubUrl: input.hubUrl, signedIn: false, state: 'unauthorized', error: refused } };
    },
    onEvent: () => () => undefined,
  };
  const page = window as unknown as Record<string, unknown>;
  page.greenlight = new Proxy(api, { get: (target, name: string) => target[name] ?? notUsed });
  page.fakePreload = { calls, finish: endWaiting, answerSignIn: () => answerSignIn() };
}

interface FakePreload {
  calls: string[];
  finish: (ack: Ack) => boolean;
  answerSignIn: () => void;
}
const fake = (page: Page) => page.evaluateHandle(() => (window as unknown as { fakePreload: FakePreload }).fakePreload);
const ssoButton = (page: Page) => page.getByRole('button', { name: 'Sign in through your browser (single sign-on)' });
const waitingNote = (page: Page) => page.getByRole('status').filter({ hasText: 'Waiting for the browser…' });

test.beforeEach(async ({ page }) => {
  await page.addInitScript(fakeDesktopPreload);
  await page.goto(hubUrl());
  await page.getByLabel('Hub URL').fill(hubUrl());
});

test('desktop app, Electron preload faked: waiting for the browser shows Cancel, and Cancel goes back to the form without an error', async ({ page }, testInfo) => {
  await ssoButton(page).click();
  await expect(waitingNote(page)).toBeVisible();
  await shot(page, testInfo, 'desktop-sign-in-waiting-for-browser');
  await expect(ssoButton(page)).toHaveCount(0);
  await waitingNote(page).getByRole('button', { name: 'Cancel' }).click();
  await expect(ssoButton(page)).toBeEnabled();
  await expect(waitingNote(page)).toHaveCount(0);
  await expect(page.getByRole('alert')).toHaveCount(0);
  expect(await (await fake(page)).evaluate((preload) => preload.calls)).toEqual([`signInWithBrowser ${hubUrl()}`, 'cancelSignInWithBrowser']);

  // A wait that ends for a real reason still says why.
  await ssoButton(page).click();
  await expect(waitingNote(page)).toBeVisible();
  await (await fake(page)).evaluate((preload) => preload.finish({ error: { code: 'TIMEOUT', message: 'Sign-in was not finished in the browser within 300 s. Try again.' } }));
  await expect(page.getByRole('alert')).toContainText('Sign-in was not finished in the browser within 300 s.');
  await expect(ssoButton(page)).toBeEnabled();
});

test('desktop app, Electron preload faked: while waiting for the browser, signing in with a token goes ahead and ends the wait', async ({ page }) => {
  await ssoButton(page).click();
  await expect(waitingNote(page)).toBeVisible();
  await page.getByLabel('Token').fill('glt_not_a_real_token');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  // The browser sign-in has ended as cancelled; the token's sign-in goes on, and the form says so.
  await expect.poll(async () => (await fake(page)).evaluate((preload) => preload.calls)).toEqual([`signInWithBrowser ${hubUrl()}`, 'signIn']);
  await expect(page.getByRole('button', { name: 'Signing in…' })).toBeDisabled();
  await (await fake(page)).evaluate((preload) => preload.answerSignIn());
  await expect(page.getByRole('alert')).toContainText('The hub refused this token.');
  await expect(waitingNote(page)).toHaveCount(0);
  await expect(ssoButton(page)).toBeEnabled();
  expect(await (await fake(page)).evaluate((preload) => preload.calls)).toEqual([`signInWithBrowser ${hubUrl()}`, 'signIn']);
});
