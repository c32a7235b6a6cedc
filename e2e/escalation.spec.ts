import { createUser, submitRequest, unique } from './support/hub-api.js';
import { detail, expect, inboxRow, shot, test } from './support/fixtures.js';

test('nobody acts: the request escalates to the leads, marked escalated', async ({ actors }, testInfo) => {
  const requester = await createUser('alice', ['requester']);
  await createUser('oncall', ['approver'], ['oncall']);
  const lead = await createUser('lena', ['lead'], ['leads']);
  const resource = unique('payments-worker');
  const lena = await actors.open(lead);
  await submitRequest(requester, { action: 'restart', resource, environment: 'production', reason: 'stuck consumer', risk: 'medium' });

  // The policy escalates after 3 s; the lead is not an approver before that.
  const row = inboxRow(lena.page, resource);
  await expect(row).toBeVisible({ timeout: 20_000 });
  await expect(row.getByText('escalated', { exact: true })).toBeVisible();
  await row.click();
  await expect(detail(lena.page).getByText('escalated', { exact: true }).first()).toBeVisible();
  await expect(detail(lena.page).locator('.timeline')).toContainText('escalated');
  await shot(lena.page, testInfo, 'escalated-inbox');
});
