import { createUser, getRequest, unique } from './support/hub-api.js';
import { expect, openTab, shot, test } from './support/fixtures.js';

test('break-glass from the new-request form asks a second time, then grants access at once', async ({ actors }, testInfo) => {
  const oncall = await createUser('dave', ['requester'], ['glass-oncall']);
  await createUser('sam', ['approver'], ['glass-sre']);
  const reviewer = await createUser('sue', ['approver'], ['glass-sec']);
  const dave = await actors.open(oncall);
  await openTab(dave.page, 'New request');
  const page = dave.page;
  await page.getByLabel('Action').selectOption('failover-db');
  await page.getByLabel('Environment').fill('production');
  await page.getByLabel('Resource').fill(unique('orders-db'));
  await page.getByLabel('Reason').fill('primary is down, customers cannot pay');
  await page.getByLabel(/Break-glass/).check();
  await page.getByRole('textbox', { name: 'Incident' }).fill('INC-4412');
  await page.getByRole('button', { name: 'Break the glass' }).click();
  const confirm = page.getByRole('alertdialog', { name: 'Confirm break-glass' });
  await expect(confirm).toContainText('Break the glass for INC-4412?');
  await shot(page, testInfo, 'break-glass-confirm');
  await confirm.getByRole('button', { name: 'Yes, break the glass' }).click();
  await expect(page.getByRole('heading', { name: 'Request submitted' })).toBeVisible();
  await expect(page.getByTestId('status')).toHaveText(/^approved/);

  // The reviewer can open it, with its review still open.
  const id = await page.locator('article.mine').getAttribute('data-request-id');
  const seen = await getRequest(reviewer, id ?? '');
  expect(seen.breakGlass).toMatchObject({ incident: 'INC-4412', review: 'open' });
});
