import type { Page } from '@playwright/test';
import type { Risk } from '../protocol/index.js';
import { createUser, decide, getRequest, submitRequest, unique } from './support/hub-api.js';
import { detail, expect, inboxRow, test } from './support/fixtures.js';

// A decision must never go the other way than the person chose: each path below once could.

for (const risk of ['low', 'medium', 'high', 'critical'] as const satisfies readonly Risk[]) {
  test(`${risk} risk: d, a reason, then Ctrl+Enter denies and issues no grant`, async ({ actors }) => {
    const requester = await createUser('alice', ['requester']);
    const approver = await createUser('kim', ['approver'], ['safety']);
    const kim = await actors.open(approver);
    const request = await submitRequest(requester, { action: 'decide-safely', resource: unique(`deny-${risk}`), environment: 'production', reason: 'try the keys', risk });

    await inboxRow(kim.page, request.resource).click();
    const pane = detail(kim.page);
    await kim.page.keyboard.press('d');
    const comment = pane.getByLabel('Comment (required to deny)');
    await expect(comment).toBeFocused();
    // The keyboard follows the intent, and says so where the person looks.
    await expect(pane.getByTestId('ctrl-enter-hint')).toContainText('Ctrl+Enter denies with this comment');
    await expect(pane.getByRole('button', { name: /^Deny/ })).toContainText('Ctrl+Enter');
    await expect(pane.getByRole('button', { name: /^Approve/ })).not.toContainText('Ctrl');
    await comment.fill('not before the incident review');
    await comment.press('Control+Enter');

    await expect(pane.getByTestId('status')).toHaveText(`denied by ${approver.name}`);
    const decided = await getRequest(requester, request.id);
    expect(decided.status).toBe('denied');
    expect(decided.grant).toBeNull();
    expect(decided.decisions).toEqual([expect.objectContaining({ approver: approver.name, decision: 'deny', comment: 'not before the incident review' })]);
  });
}

test('with no choice made, Ctrl+Enter sends nothing and asks; after choosing approve it approves', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  const approver = await createUser('kim', ['approver'], ['safety']);
  const kim = await actors.open(approver);
  const request = await submitRequest(requester, { action: 'decide-safely', resource: unique('no-choice'), environment: 'production', reason: 'comment first', risk: 'low' });

  await inboxRow(kim.page, request.resource).click();
  const pane = detail(kim.page);
  const comment = pane.getByLabel('Comment (required to deny)');
  await comment.fill('checked the runbook');
  await expect(pane.getByTestId('ctrl-enter-hint')).toContainText('sends nothing until you choose Approve or Deny');
  await comment.press('Control+Enter');
  await expect(pane.getByRole('alert')).toHaveText(/Choose Approve or Deny first/);
  await expect(comment).toBeFocused();
  expect((await getRequest(requester, request.id)).decisions).toEqual([]);

  await pane.getByRole('radio', { name: 'approve' }).check();
  await expect(pane.getByTestId('ctrl-enter-hint')).toContainText('Ctrl+Enter approves with this comment');
  await expect(pane.getByRole('alert')).toHaveCount(0);
  await comment.press('Control+Enter');
  await expect(pane.getByTestId('status')).toHaveText(`approved by ${approver.name}`);
  expect((await getRequest(requester, request.id)).decisions[0]).toMatchObject({ decision: 'approve', comment: 'checked the runbook' });
});

test('after choosing deny, switching to approve makes Ctrl+Enter approve (the latest choice wins, and is shown)', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  const approver = await createUser('kim', ['approver'], ['safety']);
  const kim = await actors.open(approver);
  const request = await submitRequest(requester, { action: 'decide-safely', resource: unique('switch'), environment: 'production', reason: 'changed my mind', risk: 'medium' });

  await inboxRow(kim.page, request.resource).click();
  const pane = detail(kim.page);
  await kim.page.keyboard.press('d');
  await expect(pane.getByRole('radio', { name: 'deny' })).toBeChecked();
  await pane.getByRole('radio', { name: 'approve' }).check();
  await expect(pane.getByRole('button', { name: /^Approve/ })).toContainText('Ctrl+Enter');
  await expect(pane.getByRole('button', { name: /^Deny/ })).not.toContainText('Ctrl');
  const comment = pane.getByLabel('Comment (required to deny)');
  await comment.fill('ok after the call');
  await comment.press('Control+Enter');
  await expect(pane.getByTestId('status')).toHaveText(`approved by ${approver.name}`);
});

/** Two key presses in one task, faster than any re-render: a real double press. */
async function doublePress(page: Page, key: string): Promise<void> {
  await page.evaluate((pressed) => {
    for (let i = 0; i < 2; i += 1) document.body.dispatchEvent(new KeyboardEvent('keydown', { key: pressed, bubbles: true, cancelable: true }));
  }, key);
}

test('a double press of a sends one vote, and no error', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  const approver = await createUser('kim', ['approver'], ['sre']);
  // The quorum rule needs two approvals (so a second vote from the same person would be refused), and two people to give them.
  await createUser('lee', ['approver'], ['sre']);
  const kim = await actors.open(approver);
  const request = await submitRequest(requester, { action: 'deploy', resource: unique('double'), environment: 'production', reason: 'double press', risk: 'low' });

  await inboxRow(kim.page, request.resource).click();
  const pane = detail(kim.page);
  await expect(pane.getByRole('button', { name: /^Approve/ })).toBeEnabled();
  await doublePress(kim.page, 'a');
  await expect(pane.getByText('You voted. Waiting for 1 more approval.')).toBeVisible();
  await expect(kim.page.getByRole('status').filter({ hasText: 'Your approval is in: 1 of 2.' })).toBeVisible();
  await expect(kim.page.locator('.notice-error')).toHaveCount(0);
  expect((await getRequest(requester, request.id)).decisions).toHaveLength(1);
});

test('Enter on a focused Approve button does nothing once j or k moved the selection to another request', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  const approver = await createUser('kim', ['approver'], ['safety']);
  const kim = await actors.open(approver);
  const first = await submitRequest(requester, { action: 'decide-safely', resource: unique('focus-a'), environment: 'production', reason: 'focused button', risk: 'low' });
  const second = await submitRequest(requester, { action: 'decide-safely', resource: unique('focus-b'), environment: 'production', reason: 'the next one', risk: 'low' });
  await expect(inboxRow(kim.page, second.resource)).toBeVisible();

  await inboxRow(kim.page, first.resource).click();
  const pane = detail(kim.page);
  const approveFirst = pane.getByRole('button', { name: /^Approve/ });
  await approveFirst.focus();
  await expect(approveFirst).toBeFocused();
  // j moves down the list, k up: whichever has somewhere to go from the first request.
  const rows = await kim.page.getByRole('option').allTextContents();
  const isLast = rows.findIndex((text) => text.includes(first.resource)) === rows.length - 1;
  await kim.page.keyboard.press(isLast ? 'k' : 'j');
  await expect(pane.locator('article.detail')).not.toHaveAttribute('data-request-id', first.id);
  const landedOn = await pane.locator('article.detail').getAttribute('data-request-id');
  // The button that had focus belonged to the first request; it must not carry over to the next.
  await expect(pane.getByRole('button', { name: /^Approve/ })).not.toBeFocused();
  await kim.page.keyboard.press('Enter');
  await kim.page.keyboard.press('Space');

  for (const id of [first.id, second.id, landedOn ?? '']) {
    if (!id) continue;
    expect((await getRequest(requester, id).catch(() => null))?.status ?? 'pending').toBe('pending');
  }
  await expect(pane.getByRole('button', { name: /^Approve/ })).toBeEnabled();
});

test('a decision refused as already decided refreshes the view: who decided, and no more buttons', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  const approver = await createUser('kim', ['approver'], ['safety']);
  const other = await createUser('lee', ['approver'], ['safety']);
  const resource = unique('stale');
  // kim's page misses every update about this request, as a connection that dropped one would.
  const kim = await actors.open(approver, {
    beforeGoto: (page) =>
      page.routeWebSocket(/\/socket\.io\//, (ws) => {
        const server = ws.connectToServer();
        ws.onMessage((message) => server.send(message));
        server.onMessage((message) => {
          if (typeof message === 'string' && message.includes('request:updated') && message.includes(resource)) return;
          ws.send(message);
        });
      }),
  });
  const request = await submitRequest(requester, { action: 'decide-safely', resource, environment: 'production', reason: 'two approvers at once', risk: 'low' });
  await inboxRow(kim.page, resource).click();
  const pane = detail(kim.page);
  await expect(pane.getByRole('button', { name: /^Approve/ })).toBeEnabled();

  await decide(other, request.id, 'approve', 'on it');
  await expect(pane.getByRole('button', { name: /^Approve/ })).toBeEnabled();
  await kim.page.keyboard.press('a');

  await expect(kim.page.getByRole('alert')).toContainText(`already approved by ${other.name}`);
  await expect(pane.getByTestId('status')).toHaveText(`approved by ${other.name}`);
  await expect(pane.getByRole('status').filter({ hasText: `This request is approved by ${other.name}` })).toBeVisible();
  await expect(pane.getByRole('button', { name: /^Approve/ })).toHaveCount(0);
  expect((await getRequest(requester, request.id)).decisions).toEqual([expect.objectContaining({ approver: other.name })]);
});

test('a diff or a log holding direction controls warns and shows each one marked where it is, so it reads in the order it runs', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  const approver = await createUser('kim', ['approver'], ['safety']);
  const kim = await actors.open(approver);
  const diff = '--- a/auth.py\n+++ b/auth.py\n@@ -1 +1 @@\n-if role == "user":\n+if role == "user\u202E \u2066# admin\u2069":\n';
  const request = await submitRequest(requester, { action: 'decide-safely', resource: unique('bidi'), environment: 'production', reason: 'access check', risk: 'low', context: { diff, logs: 'ok \u2067done' } });

  await inboxRow(kim.page, request.resource).click();
  const pane = detail(kim.page);
  const added = pane.locator('tr.diff-add td.code');
  await expect(added).toHaveText('+if role == "userU+202E U+2066# adminU+2069":');
  await expect(added.locator('mark.hidden-char')).toHaveText(['U+202E', 'U+2066', 'U+2069']);
  await expect(pane.getByTestId('logs').locator('mark.hidden-char')).toHaveText(['U+2067']);
  await expect(pane.getByRole('note').filter({ hasText: 'change the direction of text' })).toHaveCount(2);
  // What is sent back is still what was submitted.
  expect((await getRequest(requester, request.id)).context.diff).toBe(diff);
});

test('a link shows where it really goes: a lookalike letter in its host shows as xn--', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  const approver = await createUser('kim', ['approver'], ['safety']);
  const kim = await actors.open(approver);
  // "gіthub" with a Cyrillic і: it reads as GitHub and goes elsewhere.
  const request = await submitRequest(requester, {
    action: 'decide-safely',
    resource: unique('lookalike-link'),
    environment: 'production',
    reason: 'review the pull request first',
    context: { links: [{ title: 'PR 42', url: 'https://g\u0456thub.com/acme/payments/pull/42' }] },
  });

  await inboxRow(kim.page, request.resource).click();
  const destination = detail(kim.page).getByTestId('link-destination');
  await expect(destination).toHaveText('https://xn--gthub-n2e.com/acme/payments/pull/42');
  await expect(detail(kim.page).getByRole('link', { name: 'PR 42' })).toHaveAttribute('href', 'https://xn--gthub-n2e.com/acme/payments/pull/42');
});
