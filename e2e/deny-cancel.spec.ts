import { createUser, getRequest, submitRequest, unique } from './support/hub-api.js';
import { detail, expect, inboxRow, myRequest, openTab, shot, test } from './support/fixtures.js';

test('deny needs a comment, and the requester sees the denial with it', async ({ actors }, testInfo) => {
  const requester = await createUser('alice', ['requester']);
  const approver = await createUser('bob', ['approver'], ['platform']);
  const resource = unique('dns');
  const bob = await actors.open(approver);
  const alice = await actors.open(requester);
  await submitRequest(requester, { action: 'config', resource, environment: 'production', reason: 'change TTLs', risk: 'medium' });

  await inboxRow(bob.page, resource).click();
  const pane = detail(bob.page);
  await pane.getByRole('button', { name: /^Deny/ }).click();
  await expect(pane.getByText('Say why you deny')).toBeVisible();
  await expect(pane.getByLabel('Comment (required to deny)')).toBeFocused();
  await pane.getByLabel('Comment (required to deny)').fill('Not during the freeze');
  await pane.getByRole('button', { name: /^Deny/ }).click();
  await expect(pane.getByTestId('status')).toHaveText(`denied by ${approver.name}`);

  await openTab(alice.page, 'My requests');
  const card = myRequest(alice.page, resource);
  await expect(card.getByTestId('status')).toHaveText(`denied by ${approver.name}`);
  await expect(card.locator('p > q.comment')).toHaveText('Not during the freeze');
  await shot(alice.page, testInfo, 'my-requests-denied');
});

test('the requester cancels; the approver sees it leave with who cancelled', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  const approver = await createUser('bob', ['approver'], ['platform']);
  const resource = unique('cache');
  const bob = await actors.open(approver);
  const alice = await actors.open(requester);
  const request = await submitRequest(requester, { action: 'config', resource, environment: 'production', reason: 'flush cache', risk: 'low' });
  await expect(inboxRow(bob.page, resource)).toBeVisible();

  await openTab(alice.page, 'My requests');
  const card = myRequest(alice.page, resource);
  await card.getByRole('button', { name: 'Cancel request' }).click();
  // It asks first; "Keep" leaves the request as it was, with focus back on the button.
  await card.getByRole('button', { name: 'Keep' }).click();
  await expect(card.getByRole('button', { name: 'Cancel request' })).toBeFocused();
  // Escape from the question (focus starts on "Yes") backs out the same way.
  await card.getByRole('button', { name: 'Cancel request' }).click();
  await expect(card.getByRole('button', { name: 'Yes, cancel it' })).toBeFocused();
  await alice.page.keyboard.press('Escape');
  await expect(card.getByRole('button', { name: 'Cancel request' })).toBeFocused();
  expect((await getRequest(requester, request.id)).status).toBe('pending');
  await card.getByRole('button', { name: 'Cancel request' }).click();
  await card.getByRole('button', { name: 'Yes, cancel it' }).click();
  await expect(card.getByTestId('status')).toHaveText(`cancelled by ${requester.name}`);
  await expect(card.getByRole('button', { name: 'Cancel request' })).toHaveCount(0);

  await expect(inboxRow(bob.page, resource)).toHaveCount(0);
  await expect(bob.page.getByRole('list', { name: 'Just decided elsewhere' })).toContainText(`cancelled by ${requester.name}`);
  expect((await getRequest(requester, request.id)).status).toBe('cancelled');
});
