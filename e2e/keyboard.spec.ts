import { createUser, getRequest, submitRequest, unique } from './support/hub-api.js';
import { detail, expect, inboxRow, shot, test } from './support/fixtures.js';

test('keyboard only: j selects, a approves, Enter confirms a critical request', async ({ actors }, testInfo) => {
  const requester = await createUser('alice', ['requester']);
  const approver = await createUser('kim', ['approver'], ['keys']);
  const resource = unique('signing-key');
  const kim = await actors.open(approver);
  const request = await submitRequest(requester, { action: 'rotate-key', resource, environment: 'production', reason: 'key leaked in a log', risk: 'critical' });
  await expect(inboxRow(kim.page, resource)).toBeVisible();
  // The shortcuts are shown, not just bound.
  await expect(kim.page.getByText(/j\s*\/\s*k\s*move/)).toContainText('a approve');

  await kim.page.keyboard.press('j');
  await expect(inboxRow(kim.page, resource)).toHaveAttribute('aria-selected', 'true');
  const pane = detail(kim.page);
  await expect(pane.getByTestId('reason')).toHaveText('key leaked in a log');

  await kim.page.keyboard.press('a');
  const confirm = pane.getByRole('alertdialog');
  await expect(confirm).toContainText('critical risk');
  await expect(confirm.getByRole('button', { name: 'Yes, approve' })).toBeFocused();
  await shot(kim.page, testInfo, 'confirm-critical');
  await kim.page.keyboard.press('Enter');
  await expect(pane.getByTestId('status')).toHaveText(`approved by ${approver.name}`);
  expect((await getRequest(requester, request.id)).status).toBe('approved');
  // The buttons that had focus are gone; focus lands on what replaced them, not on the page.
  await expect(pane.getByText(`This request is approved by ${approver.name}`)).toBeFocused();
});

test('from the comment box: Ctrl+Enter approves with the comment once approve is chosen, Escape hands the keys back to the shortcuts', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  const approver = await createUser('kim', ['approver'], ['keys']);
  const kim = await actors.open(approver);
  const first = await submitRequest(requester, { action: 'rotate-key', resource: unique('comment-key'), environment: 'production', reason: 'approve me from the box', risk: 'low' });
  const second = await submitRequest(requester, { action: 'rotate-key', resource: unique('escape-key'), environment: 'production', reason: 'deny me after escape', risk: 'low' });

  await inboxRow(kim.page, first.resource).click();
  const pane = detail(kim.page);
  const comment = pane.getByLabel('Comment (required to deny)');
  await comment.fill('rotated, checked the new fingerprint');
  await pane.getByRole('radio', { name: 'approve' }).check();
  await comment.press('Control+Enter');
  await expect.poll(async () => (await getRequest(requester, first.id)).status).toBe('approved');
  expect((await getRequest(requester, first.id)).decisions[0]?.comment).toBe('rotated, checked the new fingerprint');

  await inboxRow(kim.page, second.resource).click();
  await comment.fill('not this one');
  // While typing, "d" is just a letter.
  await comment.press('d');
  await expect(comment).toHaveValue('not this oned');
  await comment.press('Backspace');
  await comment.press('Escape');
  await kim.page.keyboard.press('d');
  await expect.poll(async () => (await getRequest(requester, second.id)).status).toBe('denied');
});
