import { createUser, getRequest, submitRequest, unique } from './support/hub-api.js';
import { detail, expect, inboxRow, shot, test } from './support/fixtures.js';

test('two approvals: the first shows 1 of 2, the second completes it (high risk asks to confirm)', async ({ actors }, testInfo) => {
  const requester = await createUser('alice', ['requester']);
  const first = await createUser('bob', ['approver'], ['sre']);
  const second = await createUser('carol', ['approver'], ['sre']);
  const resource = unique('checkout');

  const bob = await actors.open(first);
  const carol = await actors.open(second);
  const request = await submitRequest(requester, { action: 'deploy', resource, environment: 'production', reason: 'release 4.2', risk: 'high' });

  await inboxRow(bob.page, resource).click();
  const bobPane = detail(bob.page);
  await expect(bobPane.getByTestId('votes')).toContainText('0 of 2');
  await bobPane.getByRole('button', { name: /^Approve/ }).click();
  const confirm = bobPane.getByRole('alertdialog');
  await expect(confirm).toContainText('high risk');
  await confirm.getByRole('button', { name: 'Yes, approve' }).click();
  await expect(bobPane.getByTestId('votes')).toContainText('1 of 2');
  await expect(bobPane.getByText('Waiting for 1 more approval')).toBeVisible();
  await expect(bob.page.getByText('Your approval is in: 1 of 2.')).toBeVisible();
  await expect(bobPane.getByTestId('status')).toHaveText('pending');
  await shot(bob.page, testInfo, 'quorum-1-of-2');

  await inboxRow(carol.page, resource).click();
  const carolPane = detail(carol.page);
  await expect(carolPane.getByTestId('votes')).toContainText('1 of 2');
  // A claim tells the other approvers someone is on it.
  await carolPane.getByRole('button', { name: /^Claim/ }).click();
  await expect(carolPane.getByRole('button', { name: /^Release/ })).toBeVisible();
  await expect(bobPane.getByText(`claimed by ${second.name}`)).toBeVisible();
  await carolPane.getByRole('button', { name: /^Approve/ }).click();
  await carolPane.getByRole('alertdialog').getByRole('button', { name: 'Yes, approve' }).click();
  await expect(carolPane.getByTestId('votes')).toContainText('2 of 2');
  await expect(carolPane.getByTestId('status')).toHaveText(/^approved/);
  await expect(bobPane.getByTestId('status')).toHaveText(/^approved/);
  expect((await getRequest(requester, request.id)).status).toBe('approved');
});
