import { createUser, getRequest, submitRequest, unique } from './support/hub-api.js';
import { detail, expect, inboxRow, openTab, shot, test } from './support/fixtures.js';

test('one from SRE and one from Security: the inbox shows progress per group until both lines are met', async ({ actors }, testInfo) => {
  const requester = await createUser('alice', ['requester']);
  const sre = await createUser('sam', ['approver'], ['db-sre']);
  const security = await createUser('sue', ['approver'], ['db-security']);
  const resource = unique('orders-db');

  const sam = await actors.open(sre);
  const sue = await actors.open(security);
  const request = await submitRequest(requester, { action: 'open-db', resource, environment: 'production', reason: 'repair a stuck migration', risk: 'medium' });

  await expect(inboxRow(sam.page, resource).getByTestId('quorum')).toHaveText('db-sre 0/1 · db-security 0/1');
  await inboxRow(sam.page, resource).click();
  await detail(sam.page).getByRole('button', { name: /^Approve/ }).click();
  await expect(detail(sam.page).getByTestId('votes')).toHaveText('db-sre 1/1 · db-security 0/1');
  await expect(detail(sam.page).getByText('Waiting for db-security 1')).toBeVisible();

  // Security still sees it, with SRE's line already met.
  const row = inboxRow(sue.page, resource);
  await expect(row.getByTestId('quorum')).toHaveText('db-sre 1/1 · db-security 0/1');
  await shot(sue.page, testInfo, 'group-quorum-inbox');
  await row.click();
  await detail(sue.page).getByRole('button', { name: /^Approve/ }).click();
  await expect(detail(sue.page).getByTestId('status')).toHaveText(/^approved/);
  await expect(detail(sue.page).getByTestId('votes')).toHaveText('db-sre 1/1 · db-security 1/1');
  expect((await getRequest(requester, request.id)).status).toBe('approved');
});

test('the new-request form says what the policy will need before submitting', async ({ actors }) => {
  const requester = await createUser('rita', ['requester']);
  const rita = await actors.open(requester);
  await openTab(rita.page, 'New request');
  await rita.page.getByLabel('Action').selectOption('open-db');
  await rita.page.getByLabel('Environment').fill('production');
  await rita.page.getByLabel('Resource').fill(unique('orders-db'));
  await expect(rita.page.getByTestId('policy-preview')).toHaveText('Rule two-groups: needs db-sre 1 + db-security 1; expires after 1h');
  await expect(rita.page.getByTestId('policy-access')).toHaveText('Access lasts at most 10m.');
});
