import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { startCli, type CliProcess } from '../server/cli/cli-harness.js';
import { freePort } from '../server/test-support/hub-process.js';
import { detail, inboxRow } from './support/fixtures.js';

/** `greenlight demo` as a user runs it: its own process, a free port, a data folder of its own. */
const demo = { process: null as CliProcess | null, url: '', dir: '' };

test.beforeAll(async () => {
  demo.dir = mkdtempSync(path.join(tmpdir(), 'greenlight-demo-e2e-'));
  const port = await freePort();
  demo.url = `http://127.0.0.1:${port}`;
  demo.process = startCli(['demo', '--port', String(port), '--data-dir', path.join(demo.dir, 'demo')]);
  await demo.process.waitFor('stderr', /Greenlight hub listening on /, 60_000);
});

test.afterAll(async () => {
  demo.process?.child.kill('SIGINT');
  await demo.process?.exited;
  if (demo.dir) rmSync(demo.dir, { recursive: true, force: true });
});

test('a printed sign-in link signs bob in, leaves no token in the address, and bob approves a demo request', async ({ browser }) => {
  const [link] = (demo.process?.stdout ?? '').match(/http:\/\/127\.0\.0\.1:\d+\/#token=glt_\S+(?=\s+approver)/) ?? [];
  expect(link, demo.process?.stdout).toBeDefined();
  expect(link?.startsWith(`${demo.url}/#token=`)).toBe(true);

  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(link ?? '');
    await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
    await expect(page.locator('header .user')).toHaveText('bob');
    // Taken once: the token is gone from the address bar, and so from history and bookmarks.
    expect(page.url()).toBe(`${demo.url}/`);
    expect(await page.evaluate(() => window.location.hash)).toBe('');

    // A reload signs in from the session, not from the link.
    await page.reload();
    await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();

    await inboxRow(page, 'payments-api').click();
    const pane = detail(page);
    await expect(pane.getByTestId('reason')).toContainText('Release 2.4.1');
    await expect(pane.locator('tr.diff-add')).toContainText(['const idempotencyKey']);
    await expect(pane.getByTestId('logs')).toContainText('0 charged twice');
    await expect(pane.getByRole('link', { name: 'PR #812' })).toBeVisible();
    await pane.getByRole('button', { name: /^Approve/ }).click();
    // High risk asks to confirm.
    await pane.getByRole('alertdialog').getByRole('button', { name: 'Yes, approve' }).click();
    await expect(pane.getByTestId('status')).toHaveText('approved by bob');
    await expect(inboxRow(page, 'payments-api')).toHaveCount(0);
    // The other two demo requests still wait on bob.
    await expect(inboxRow(page, 'customers-db')).toBeVisible();
    await expect(inboxRow(page, 'checkout-web')).toBeVisible();
  } finally {
    await context.close();
  }
});
