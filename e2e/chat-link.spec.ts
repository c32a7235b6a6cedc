import { createUser, decide, delegate, hubUrl, submitRequest, unique } from './support/hub-api.js';
import { detail, expect, inboxRow, signIn, test } from './support/fixtures.js';

test('"Open in Greenlight" from a Slack or Teams message opens that request in the console', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  const approver = await createUser('bob', ['approver'], ['platform']);
  const linked = unique('linked');
  const other = unique('other');
  const target = await submitRequest(requester, { action: 'config', resource: linked, environment: 'production', reason: 'from the chat link', risk: 'high' });
  await submitRequest(requester, { action: 'config', resource: other, environment: 'production', reason: 'another one', risk: 'critical' });
  const bob = await actors.open(approver);

  // The link chat messages carry; the session survives the navigation as it does a reload.
  await bob.page.goto(`${hubUrl()}/?request=${target.id}`);
  await expect(detail(bob.page)).toContainText(linked);
  await expect(detail(bob.page)).toContainText('from the chat link');
  await expect(detail(bob.page)).not.toContainText(other);
});

test('a chat link to a request someone else already decided shows that request as it now is, read-only, not another one', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  const approver = await createUser('bob', ['approver'], ['platform']);
  const other = await createUser('carol', ['approver'], ['platform']);
  const linked = unique('decided-linked');
  const waiting = unique('still-waiting');
  const target = await submitRequest(requester, { action: 'config', resource: linked, environment: 'production', reason: 'decided before the click', risk: 'medium' });
  await submitRequest(requester, { action: 'config', resource: waiting, environment: 'production', reason: 'waits on bob', risk: 'critical' });
  await decide(other, target.id, 'approve', 'fine by me');
  const bob = await actors.open(approver);

  await bob.page.goto(`${hubUrl()}/?request=${target.id}`);
  await expect(detail(bob.page)).toContainText(linked);
  await expect(detail(bob.page).getByTestId('status')).toHaveText(/^approved/);
  await expect(detail(bob.page)).toContainText(`approved by ${other.name}`);
  await expect(detail(bob.page).getByRole('button', { name: /^Approve/ })).toHaveCount(0);
  await expect(detail(bob.page)).not.toContainText(waiting);
});

test('a chat link to a request the hub won’t show says so, instead of showing another request', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  const approver = await createUser('bob', ['approver'], ['platform']);
  const waiting = unique('still-waiting');
  await submitRequest(requester, { action: 'config', resource: waiting, environment: 'production', reason: 'waits on bob', risk: 'critical' });
  const bob = await actors.open(approver);

  const missing = 'req_00000000000000000000000000';
  await bob.page.goto(`${hubUrl()}/?request=${missing}`);
  await expect(detail(bob.page).getByTestId('link-note')).toContainText(`The request this link opens (${missing}) can’t be shown`);
  await expect(detail(bob.page).getByRole('button', { name: /^Approve/ })).toHaveCount(0);
});

test('a chat link opened in a new tab, which starts signed out, opens its request once I sign in there', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  const approver = await createUser('bob', ['approver'], ['platform']);
  const linked = unique('new-tab-linked');
  const target = await submitRequest(requester, { action: 'config', resource: linked, environment: 'production', reason: 'linked from chat', risk: 'high' });
  const bob = await actors.open(approver);

  // The console keeps its session per tab: the tab the chat client opens starts at sign-in.
  const tab = await bob.context.newPage();
  await tab.goto(`${hubUrl()}/?request=${target.id}`);
  await expect(tab.getByTestId('link-waits')).toContainText(target.id);
  await signIn(tab, approver.token);

  await expect(detail(tab)).toContainText(linked);
  await expect(detail(tab)).toContainText('linked from chat');
  await expect(detail(tab).getByTestId('link-note')).toHaveCount(0);
});

test('a decided request opened from a chat link stays on screen when the console syncs again', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  const approver = await createUser('bob', ['approver'], ['platform']);
  const other = await createUser('carol', ['approver'], ['platform']);
  const colleague = await createUser('dana', ['approver'], ['away']);
  const linked = unique('synced-linked');
  const handedOver = unique('handed-over');
  const target = await submitRequest(requester, { action: 'config', resource: linked, environment: 'production', reason: 'decided before the click', risk: 'medium' });
  await decide(other, target.id, 'approve', 'fine by me');
  await submitRequest(requester, { action: 'hand-over', resource: handedOver, environment: 'production', reason: 'waits on dana', risk: 'low' });
  const bob = await actors.open(approver);
  await bob.page.goto(`${hubUrl()}/?request=${target.id}`);
  await expect(detail(bob.page).getByTestId('status')).toHaveText(/^approved/);

  // Dana hands bob her approvals: the hub tells his console to sync, and her request reaches his inbox only by that sync.
  await delegate(colleague, approver);
  await expect(inboxRow(bob.page, handedOver)).toHaveCount(1);
  await expect(detail(bob.page)).toContainText(linked);
  await expect(detail(bob.page).getByTestId('status')).toHaveText(/^approved/);
  await expect(detail(bob.page).getByText('Opening the request from the link…')).toHaveCount(0);
});
