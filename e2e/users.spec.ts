import type { Page } from '@playwright/test';
import { adminUser, createUser, hubUrl, listUsers, unique } from './support/hub-api.js';
import { expect, openTab, shot, signIn, test } from './support/fixtures.js';

const nav = (page: Page) => page.getByRole('navigation', { name: 'Main' });
const userRow = (page: Page, name: string) => page.getByRole('region', { name: 'Users' }).locator(`tr[data-user="${name}"]`);

test('an admin adds a user, who signs in with the token shown once; disabling them ends their session', async ({ actors }, testInfo) => {
  const admin = await actors.open(adminUser());
  await admin.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(hubUrl()).origin });
  await openTab(admin.page, 'Users');
  await expect(admin.page.getByRole('heading', { name: 'Users' })).toBeVisible();
  await admin.page.getByRole('button', { name: 'Add user' }).click();

  const form = admin.page.getByRole('form', { name: 'Add a user' });
  await expect(form.getByLabel('Name')).toBeFocused();
  const name = unique('nina');
  // Checked in the browser with the contract's schema before anything is sent.
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Email (optional)').fill('nina at example');
  await form.getByLabel('Groups (optional)').fill('platform bad/group');
  await form.getByRole('button', { name: 'Add user' }).click();
  await expect(form.getByText('Must be an email address such as bob@example.com')).toBeVisible();
  await expect(form.getByText('"bad/group": use letters, digits')).toBeVisible();
  await expect(form.getByLabel('Email (optional)')).toBeFocused();

  await form.getByLabel('Email (optional)').fill(`${name}@example.com`);
  await form.getByLabel('Groups (optional)').fill('platform');
  await form.getByRole('checkbox', { name: /^approver/ }).check();
  await form.getByRole('button', { name: 'Add user' }).click();

  const card = admin.page.getByRole('region', { name: `${name} was added` });
  await expect(card).toContainText('shown only this once');
  const token = await card.getByLabel(`Token for ${name}`).inputValue();
  expect(token).toMatch(/^glt_/);
  await card.getByRole('button', { name: 'Copy' }).click();
  await expect(card.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await admin.page.evaluate(() => navigator.clipboard.readText())).toBe(token);
  await shot(admin.page, testInfo, 'users-new-token');
  await card.getByRole('button', { name: 'Done' }).click();
  await expect(card).toHaveCount(0);
  await expect(admin.page.getByText(token)).toHaveCount(0);

  const row = userRow(admin.page, name);
  await expect(row).toContainText('requester, approver');
  await expect(row).toContainText('platform');
  await expect(row).toContainText(`${name}@example.com`);
  await expect(row).toContainText('never');

  // The new user signs in, in a browser of their own, with the token as it was shown.
  const nina = await actors.open({ name, token, roles: ['requester', 'approver'], groups: ['platform'] });
  await expect(nav(nina.page).getByRole('button', { name: 'Inbox' })).toBeVisible();
  await expect(nav(nina.page).getByRole('button', { name: 'Users' })).toHaveCount(0);

  // Back on the Users tab, the admin sees that they were just here.
  await openTab(admin.page, 'Inbox');
  await openTab(admin.page, 'Users');
  await expect(row.locator('time')).toHaveText('just now');

  await row.getByRole('button', { name: `Disable ${name}` }).click();
  await expect(row.getByRole('group', { name: `Disable ${name}? Their token stops working and their open sessions end.` })).toBeVisible();
  await row.getByRole('button', { name: 'Yes, disable' }).click();
  await expect(row).toHaveAttribute('data-status', 'disabled');
  await expect(row.getByRole('button', { name: `Enable ${name}` })).toBeVisible();

  await expect(nina.page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expect(nina.page.getByRole('alert')).toContainText('The hub ended your session.');
  await expect(nina.page.getByRole('alert')).toContainText('the account may have been disabled');
});

test('an admin changes a user’s groups, roles and email, and lets a disabled user back in', async ({ actors }, testInfo) => {
  const user = await createUser('otto', ['requester']);
  const otto = await actors.open(user);
  // Someone who only asks has no inbox to look at.
  await expect(otto.page.getByRole('heading', { name: 'My requests' })).toBeVisible();
  await expect(nav(otto.page).getByRole('button', { name: 'Inbox' })).toHaveCount(0);

  const admin = await actors.open(adminUser());
  await openTab(admin.page, 'Users');
  const filter = admin.page.getByRole('search', { name: 'Filter users' }).getByLabel('Filter');
  await filter.fill(user.name);
  await expect(admin.page.getByRole('region', { name: 'Users' }).locator('tbody tr')).toHaveCount(1);
  const row = userRow(admin.page, user.name);

  await row.getByRole('button', { name: `Edit ${user.name}` }).click();
  const editor = admin.page.getByRole('form', { name: `Edit ${user.name}` });
  await editor.getByLabel('Email', { exact: true }).fill('otto at example');
  await editor.getByRole('button', { name: 'Save changes' }).click();
  await expect(editor.getByText('Must be an email address')).toBeVisible();

  await editor.getByLabel('Email', { exact: true }).fill(`${user.name}@example.com`);
  await editor.getByLabel('Groups', { exact: true }).fill('platform, leads');
  await editor.getByRole('checkbox', { name: /^approver/ }).check();
  await shot(admin.page, testInfo, 'users-edit');
  await editor.getByRole('button', { name: 'Save changes' }).click();
  await expect(editor).toHaveCount(0);
  await expect(row).toContainText('requester, approver');
  await expect(row).toContainText('platform, leads');
  await expect(row).toContainText(`${user.name}@example.com`);
  expect((await listUsers()).find((listed) => listed.name === user.name)).toMatchObject({
    roles: ['requester', 'approver'],
    groups: ['platform', 'leads'],
    email: `${user.name}@example.com`,
  });

  // The user's open session picks the new role up at once: now there is an inbox for them.
  await expect(nav(otto.page).getByRole('button', { name: 'Inbox' })).toBeVisible();

  // The filter finds people by group and role too.
  await filter.fill('leads approver');
  await expect(row).toBeVisible();
  await filter.fill(`${user.name} admin`);
  await expect(admin.page.getByText(`No user matches “${user.name} admin”.`)).toBeVisible();
  await filter.fill(user.name);

  await row.getByRole('button', { name: `Disable ${user.name}` }).click();
  await row.getByRole('button', { name: 'Yes, disable' }).click();
  await expect(row).toHaveAttribute('data-status', 'disabled');
  await expect(otto.page.getByRole('alert')).toContainText('The hub ended your session.');

  await row.getByRole('button', { name: `Enable ${user.name}` }).click();
  await row.getByRole('button', { name: 'Yes, enable' }).click();
  await expect(row).toHaveAttribute('data-status', 'active');
  await expect(admin.page.getByRole('status').filter({ hasText: `${user.name} can sign in again.` })).toBeVisible();
  // The same token works again.
  await signIn(otto.page, user.token);
  await expect(nav(otto.page).getByRole('button', { name: 'Inbox' })).toBeVisible();
});

test('an admin cannot take away their own admin role: the hub’s reason shows in the editor', async ({ actors }) => {
  const admin = await actors.open(adminUser());
  await openTab(admin.page, 'Users');
  const row = userRow(admin.page, 'admin');
  await expect(row).toContainText('(you)');
  await expect(row.getByRole('button', { name: 'Disable admin' })).toHaveCount(0);
  await row.getByRole('button', { name: 'Edit admin' }).click();
  const editor = admin.page.getByRole('form', { name: 'Edit admin' });
  await editor.getByRole('checkbox', { name: /^admin/ }).uncheck();
  await editor.getByRole('button', { name: 'Save changes' }).click();
  await expect(editor.getByRole('alert')).toHaveText(/You are the last active admin|You cannot remove your own admin role/);
  await editor.getByRole('button', { name: 'Cancel' }).click();
  await expect(row).toContainText('admin');
});
