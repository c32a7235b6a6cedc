import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { _electron as electron, expect, test, type ElectronApplication, type Page } from '@playwright/test';
import { createUser, hubUrl, submitRequest, type TestUser } from '../support/hub-api.js';
import { findElectron } from './electron-available.js';
import { IPC_METHODS } from '../../electron/ipc.js';

const found = findElectron();
const skipReason = `Electron binary not available on this machine: ${found.reason}`;
// The list reporter shows skips without their reason: say it once, in the run's output too.
if (found.executablePath === null) console.log(`[electron specs skipped] ${skipReason}`);
test.skip(found.executablePath === null, skipReason);

let app: ElectronApplication;
let page: Page;
let userData: string;
let approver: TestUser;

test.beforeEach(async () => {
  approver = await createUser('desk-approver', ['approver'], ['approvers']);
  // Each test gets its own profile, so settings and the single-instance lock never leak between tests.
  userData = mkdtempSync(path.join(tmpdir(), 'gl-electron-e2e-'));
  app = await electron.launch({
    executablePath: found.executablePath ?? undefined,
    args: ['.', '--no-sandbox'],
    env: { ...process.env, GREENLIGHT_HUB: hubUrl(), GREENLIGHT_TOKEN: approver.token, GREENLIGHT_USER_DATA: userData },
  });
  page = await app.firstWindow();
  await page.waitForFunction(() => 'greenlight' in window);
});

test.afterEach(async () => {
  await app?.close();
  rmSync(userData, { recursive: true, force: true });
});

test('loads the app from app:// with exactly the preload API and no Node in the page', async () => {
  expect(page.url()).toBe('app://greenlight/index.html');
  const shape = await page.evaluate(() => ({
    api: Object.keys((window as unknown as { greenlight: object }).greenlight).sort(),
    require: typeof (window as unknown as { require?: unknown }).require,
    process: typeof (window as unknown as { process?: unknown }).process,
  }));
  // The contract's own list: a hand-kept copy here went stale as methods were added.
  expect(shape.api).toEqual([...IPC_METHODS, 'onEvent'].sort());
  expect(shape.require).toBe('undefined');
  expect(shape.process).toBe('undefined');
  // The CSP header from the app:// handler forbids eval.
  const evalResult = await page.evaluate(() => {
    try {
      return String((0, eval)('1 + 1'));
    } catch (error) {
      return error instanceof Error ? error.name : 'blocked';
    }
  });
  expect(evalResult).toBe('EvalError');
});

test('is signed in to the hub handed over at launch, and sees a new request', async () => {
  const session = await page.evaluate(() => (window as unknown as { greenlight: { getSession(): Promise<unknown> } }).greenlight.getSession());
  expect(session).toMatchObject({ data: { hubUrl: hubUrl(), signedIn: true } });
  const requester = await createUser('desk-requester', ['requester']);
  await submitRequest(requester, { action: 'deploy', resource: 'desk-e2e-api', environment: 'production', reason: 'e2e from the desktop', risk: 'low' });
  await expect(page.getByText('desk-e2e-api').first()).toBeVisible();
});

test('blocks navigation away from the app and window.open', async () => {
  await page.evaluate(() => {
    window.open('https://example.com/');
    window.location.href = 'https://example.com/';
  });
  await page.waitForTimeout(500);
  expect(page.url()).toBe('app://greenlight/index.html');
  expect(app.windows()).toHaveLength(1);
});

test('refuses IPC payloads that do not match the contract', async () => {
  const ack = await page.evaluate(() =>
    (window as unknown as { greenlight: { decide(input: unknown): Promise<unknown> } }).greenlight.decide({ requestId: '../x', decision: 'maybe' }),
  );
  expect(ack).toMatchObject({ error: { code: 'INVALID_INPUT' } });
});

test('closing the window hides it to the tray; the app keeps running', async () => {
  await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]?.close());
  const state = await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().map((window) => window.isVisible()));
  expect(state).toEqual([false]);
});

test('a second launch exits and leaves the first one running', async () => {
  const second = spawnSync(found.executablePath ?? '', ['.', '--no-sandbox'], {
    env: { ...process.env, GREENLIGHT_USER_DATA: userData },
    timeout: 20_000,
  });
  expect(second.status).toBe(0);
  expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
});
