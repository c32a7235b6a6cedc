import { createServer } from 'node:net';
import { adminUser, createUser, disableUser, hubUrl } from './support/hub-api.js';
import { expect, openTab, shot, signIn, test } from './support/fixtures.js';

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 9));
    });
  });
}

test('a wrong token says the hub refused it', async ({ page }, testInfo) => {
  await page.goto(hubUrl());
  await expect(page.getByLabel('Hub URL')).toHaveValue(hubUrl());
  await signIn(page, 'glt_not_a_real_token');
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('The hub refused this token.');
  await expect(alert).toContainText('starts with glt_');
  await shot(page, testInfo, 'sign-in-wrong-token');
});

test('an expired token says when it expired and what to do, in the hub’s words, not advice on pasting it', async ({ page }) => {
  const user = await createUser('erin', ['requester']);
  // A one-second token; the hub, not a sleep here, says when it has expired.
  const made = await fetch(`${hubUrl()}/api/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'short-lived', scopes: ['requests:read'], expiresIn: 1 }),
  });
  const { token } = (await made.json()) as { token: string };
  await expect.poll(async () => (await fetch(`${hubUrl()}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);

  await page.goto(hubUrl());
  await signIn(page, token);
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('The hub refused this token.');
  await expect(alert).toContainText('This token ("short-lived") expired at');
  await expect(alert).not.toContainText('Check that you pasted the whole token');
});

test('another hub’s address says this console serves only its own hub, and where to go instead', async ({ page }) => {
  const user = await createUser('alice', ['requester']);
  await page.goto(hubUrl());
  const other = `http://127.0.0.1:${await closedPort()}`;
  await signIn(page, user.token, other);
  const alert = page.getByRole('alert');
  await expect(alert).toContainText(`This console signs in only to the hub that serves it, ${new URL(hubUrl()).origin}.`);
  await expect(alert).toContainText(`open ${other} in your browser`);
  // Back to its own hub: the message goes as soon as the address changes, and signing in works.
  await page.getByLabel('Hub URL').fill(hubUrl());
  await expect(alert).toHaveCount(0);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
});

test('History is for admins only; the session survives a reload', async ({ actors }, testInfo) => {
  const approver = await actors.open(await createUser('bob', ['approver', 'requester'], ['platform']));
  const nav = approver.page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('button', { name: 'Inbox' })).toBeVisible();
  await expect(nav.getByRole('button', { name: 'History' })).toHaveCount(0);
  await approver.page.reload();
  await expect(nav.getByRole('button', { name: 'My requests' })).toBeVisible();
  await expect(nav.getByRole('button', { name: 'History' })).toHaveCount(0);

  const admin = await actors.open(adminUser());
  await openTab(admin.page, 'History');
  await expect(admin.page.getByRole('heading', { name: 'History' })).toBeVisible();
  await shot(admin.page, testInfo, 'history');
});

test('a user disabled mid-session is sent back to sign-in with the reason', async ({ actors }) => {
  const user = await createUser('dave', ['approver'], ['platform']);
  const dave = await actors.open(user);
  await disableUser(user.name);
  await expect(dave.page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expect(dave.page.getByRole('alert')).toContainText('The hub ended your session.');
  await expect(dave.page.getByRole('alert')).toContainText('the account may have been disabled');
  // The revoked token is not kept for the next reload.
  await dave.page.reload();
  await expect(dave.page.getByLabel('Token')).toHaveValue('');
});
