import { createUser, getRequest, unique } from './support/hub-api.js';
import { detail, expect, inboxRow, openTab, shot, test } from './support/fixtures.js';

test('break-glass from the new-request form asks a second time, grants access at once, and reaches a reviewer who ratifies it', async ({ actors }, testInfo) => {
  const oncall = await createUser('dave', ['requester'], ['glass-oncall']);
  await createUser('sam', ['approver'], ['glass-sre']);
  const reviewer = await createUser('sue', ['approver'], ['glass-sec']);
  const dave = await actors.open(oncall);
  const sue = await actors.open(reviewer);
  const resource = unique('orders-db');
  await openTab(dave.page, 'New request');
  const page = dave.page;
  await page.getByLabel('Action').selectOption('failover-db');
  await page.getByLabel('Environment').fill('production');
  await page.getByLabel('Resource').fill(resource);
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

  // It reaches the reviewer's inbox live, as a review item; the user who broke glass has none.
  const row = inboxRow(sue.page, resource);
  await expect(row).toContainText('Review break-glass');
  await expect(inboxRow(page, resource)).toHaveCount(0);
  await row.click();
  const pane = detail(sue.page);
  const review = pane.getByRole('region', { name: 'Break-glass review' });
  await expect(review).toContainText(`${oncall.name} broke glass for incident INC-4412`);
  await expect(pane.getByTestId('reason')).toHaveText('primary is down, customers cannot pay');
  await review.getByRole('button', { name: 'Ratify', exact: true }).click();
  await expect(review.getByRole('alert')).toContainText('a review needs a comment');
  await review.getByLabel('Comment (required)').fill('matches the incident timeline');
  await review.getByRole('button', { name: 'Ratify', exact: true }).click();
  await expect(review.getByTestId('review-outcome')).toHaveText(`ratified by ${reviewer.name}: matches the incident timeline`);
  await expect(inboxRow(sue.page, resource)).toHaveCount(0);
  expect((await getRequest(reviewer, id ?? '')).breakGlass).toMatchObject({ review: 'ratified', reviewedBy: reviewer.name });
});
