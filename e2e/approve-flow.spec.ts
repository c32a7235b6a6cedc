import { createUser, getRequest, hubUrl, submitRequest, unique } from './support/hub-api.js';
import { detail, expect, inboxRow, myRequest, openTab, shot, test } from './support/fixtures.js';

const DIFF = `diff --git a/flags.yaml b/flags.yaml
--- a/flags.yaml
+++ b/flags.yaml
@@ -3,3 +3,3 @@ billing:
   currency: EUR
-  new_invoices: false
+  new_invoices: true
   retries: 3
`;

test('a request submitted from the form reaches the approver live and comes back approved with a grant', async ({ actors }, testInfo) => {
  const requester = await createUser('alice', ['requester']);
  const approver = await createUser('bob', ['approver'], ['platform']);
  const resource = unique('billing-flags');

  const bob = await actors.open(approver);
  const alice = await actors.open(requester);
  await openTab(alice.page, 'New request');
  const form = alice.page.getByRole('form', { name: 'Ask for access' });
  await form.getByLabel('Action', { exact: true }).selectOption('config');
  await form.getByLabel('Environment', { exact: true }).fill('production');
  await form.getByLabel('Resource', { exact: true }).fill(resource);

  // Client-side validation with the contract's schema: no reason yet.
  await form.getByRole('button', { name: 'Submit request' }).click();
  await expect(form.getByText('say why you need this')).toBeVisible();
  await expect(form.getByLabel('Reason', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  // Focus goes to what needs fixing, and a summary says what that is.
  await expect(form.getByLabel('Reason', { exact: true })).toBeFocused();
  await expect(form.getByRole('alert')).toHaveText('One field needs attention: Reason.');

  await form.getByLabel('Reason', { exact: true }).fill('Turn on new invoices for the EU launch');
  await expect(form.getByText('say why you need this')).toHaveCount(0);
  await form.getByLabel('Diff (optional)').fill(DIFF);
  await form.getByLabel('Log excerpt (optional)').fill('12:00:01 canary ok\n12:00:09 error rate 0.01%');
  await form.getByLabel('Links (optional)').fill('Ticket https://tickets.example.com/BILL-42');
  await shot(alice.page, testInfo, 'new-request-form');
  await form.getByRole('button', { name: 'Submit request' }).click();
  await expect(alice.page.getByRole('heading', { name: 'Request submitted' })).toBeVisible();
  await expect(myRequest(alice.page, resource).getByTestId('status')).toHaveText('pending');

  // Live: bob's inbox gets it without a reload, and the title counts it.
  await expect(inboxRow(bob.page, resource)).toBeVisible();
  await expect(bob.page).toHaveTitle(/^\(\d+\) Greenlight$/);
  await inboxRow(bob.page, resource).click();
  const pane = detail(bob.page);
  await expect(pane.getByTestId('reason')).toHaveText('Turn on new invoices for the EU launch');
  await expect(pane.locator('tr.diff-del')).toContainText('new_invoices: false');
  await expect(pane.locator('tr.diff-add')).toContainText('new_invoices: true');
  await expect(pane.getByTestId('logs')).toContainText('error rate 0.01%');
  await expect(pane.getByRole('link', { name: 'Ticket' })).toHaveAttribute('href', 'https://tickets.example.com/BILL-42');
  await expect(pane.getByTestId('votes')).toContainText('0 of 1');
  await expect(pane.getByText('Timeline')).toBeVisible();
  await shot(bob.page, testInfo, 'inbox-detail');

  await pane.getByLabel('Comment (required to deny)').fill('Looks right, go ahead');
  await pane.getByRole('button', { name: /^Approve/ }).click();
  await expect(pane.getByTestId('status')).toHaveText(`approved by ${approver.name}`);
  await expect(inboxRow(bob.page, resource)).toHaveCount(0);

  // The requester's view follows live: approved, with a grant to copy and its countdown.
  const card = myRequest(alice.page, resource);
  await expect(card.getByTestId('status')).toHaveText(`approved by ${approver.name}`);
  await expect(card.getByRole('region', { name: 'Grant' })).toBeVisible();
  await expect(card.getByTestId('grant-expiry')).toContainText(/expires in \d+m/);
  // The token stays folded away until asked for.
  await expect(card.getByLabel('Grant token')).toHaveCount(0);
  await card.getByRole('button', { name: 'Show token' }).click();
  await expect(card.getByLabel('Grant token')).toHaveValue(/\S{20,}/);
  await alice.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hubUrl() });
  await card.getByRole('button', { name: 'Copy' }).click();
  await expect(card.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await alice.page.evaluate(() => navigator.clipboard.readText())).toBe(await card.getByLabel('Grant token').inputValue());
  await expect(card.locator('p > q.comment')).toHaveText('Looks right, go ahead');
  await shot(alice.page, testInfo, 'request-approved-with-grant');

  // End access early: the grant is revoked on the hub.
  await card.getByRole('button', { name: 'End access now' }).click();
  await expect(card.getByRole('group', { name: "End this grant now? It can't be used again." })).toBeVisible();
  await card.getByRole('button', { name: 'Yes, end access' }).click();
  await expect(card.getByRole('region', { name: 'Grant' })).toHaveAttribute('data-grant-status', 'revoked');
  // The requester can open what was approved: the change and the timeline, votes included.
  await card.getByText('Details: the change, votes and timeline').click();
  await expect(card.locator('tr.diff-add')).toContainText('new_invoices: true');
  await expect(card.locator('details.more').getByText('Looks right, go ahead').first()).toBeVisible();
  const id = await card.getAttribute('data-request-id');
  expect((await getRequest(requester, id ?? '')).grant?.status).toBe('revoked');
});

test('works at 360 px wide: list, then the detail with a way back', async ({ actors }, testInfo) => {
  const approver = await createUser('bob', ['approver'], ['platform']);
  const requester = await createUser('alice', ['requester']);
  const resource = unique('narrow');
  await submitRequest(requester, { action: 'config', resource, environment: 'production', reason: 'narrow screens', risk: 'low', context: { fields: { ticket: 'OPS-7', region: 'eu-west-1' } } });
  const bob = await actors.open(approver, { viewport: { width: 360, height: 740 } });
  await expect(inboxRow(bob.page, resource)).toBeVisible();
  await shot(bob.page, testInfo, 'inbox-360');
  await inboxRow(bob.page, resource).click();
  await expect(detail(bob.page).getByTestId('reason')).toHaveText('narrow screens');
  await expect(detail(bob.page).locator('dl.fields')).toContainText('ticket');
  await expect(detail(bob.page).locator('dl.fields')).toContainText('eu-west-1');
  const overflow = await bob.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await shot(bob.page, testInfo, 'detail-360');
  // The theme follows the system.
  await bob.page.emulateMedia({ colorScheme: 'dark' });
  await expect(bob.page.locator('html')).toHaveCSS('background-color', 'rgb(18, 21, 19)');
  await shot(bob.page, testInfo, 'detail-360-dark');
  await bob.page.getByRole('button', { name: '← Back to inbox' }).click();
  await expect(inboxRow(bob.page, resource)).toBeVisible();
});

test('an auto-approved request says no approval was needed, not "0 of 1 approvals"', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  const resource = unique('staging-web');
  await submitRequest(requester, { action: 'deploy', resource, environment: 'staging', reason: 'routine staging deploy', risk: 'low' });
  const alice = await actors.open(requester);
  // Someone who only asks starts on their own requests, not on an empty inbox.
  await expect(alice.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'My requests' })).toHaveAttribute('aria-current', 'page');
  const card = myRequest(alice.page, resource);
  await expect(card.getByTestId('status')).toHaveText('approved by policy:staging');
  await expect(card.getByTestId('votes')).toHaveText('no approval needed (policy staging)');
  await expect(card.getByRole('region', { name: 'Grant' })).toBeVisible();
});
