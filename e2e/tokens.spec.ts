import { createUser, hubUrl } from './support/hub-api.js';
import { expect, openTab, test } from './support/fixtures.js';

test('Settings › Tokens marks the token this session uses, and revoking asks first; revoking that one signs you out', async ({ actors }) => {
  const user = await createUser('tara', ['approver'], ['platform']);
  const made = await fetch(`${hubUrl()}/api/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'ci', scopes: ['requests:read'], expiresIn: '30d' }),
  });
  expect(made.status).toBe(201);
  const tara = await actors.open(user);
  await openTab(tara.page, 'Settings');
  const panel = tara.page.getByRole('region', { name: 'Tokens' });
  const session = panel.getByRole('row').filter({ hasText: 'this session' });
  await expect(session).toHaveCount(1);
  await expect(session).toContainText('revoking it signs you out');
  const ci = panel.getByRole('row', { name: /^ci api/ });
  await expect(ci).not.toContainText('this session');

  // One click only asks; "Keep" keeps it.
  await ci.getByRole('button', { name: 'Revoke ci' }).click();
  await expect(ci.getByRole('group', { name: 'Revoke ci? Whatever uses it stops working at once.' })).toBeVisible();
  await ci.getByRole('button', { name: 'Keep' }).click();
  await expect(ci).toHaveCount(1);
  await ci.getByRole('button', { name: 'Revoke ci' }).click();
  await ci.getByRole('button', { name: 'Yes, revoke' }).click();
  await expect(ci).toHaveCount(0);
  await expect(tara.page.getByRole('navigation', { name: 'Main' })).toBeVisible();

  // The session's own token says what revoking it does before it does it.
  await session.getByRole('button', { name: /^Revoke/ }).click();
  await expect(session.getByRole('group', { name: /the token of this session\? You are signed out at once\./ })).toBeVisible();
  await session.getByRole('button', { name: 'Yes, revoke and sign out' }).click();
  await expect(tara.page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  expect((await fetch(`${hubUrl()}/api/v1/me`, { headers: { authorization: `Bearer ${user.token}` } })).status).toBe(401);
});
