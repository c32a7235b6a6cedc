import { createUser, getRequest, submitRequest, unique } from './support/hub-api.js';
import { detail, expect, inboxRow, myRequest, openTab, test } from './support/fixtures.js';

test('an admin cancels a pending request from its detail with a required reason; the requester sees who and why', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  const admin = await createUser('root', ['admin', 'approver'], ['platform']);
  const resource = unique('queue');
  const root = await actors.open(admin);
  const alice = await actors.open(requester);
  const request = await submitRequest(requester, { action: 'config', resource, environment: 'production', reason: 'raise the queue limit', risk: 'low' });

  await inboxRow(root.page, resource).click();
  const pane = detail(root.page);
  await pane.getByRole('button', { name: 'Cancel…' }).click();
  await pane.getByRole('button', { name: 'Cancel request' }).click();
  await expect(pane.getByRole('alert')).toContainText('is told who cancelled and why');
  expect((await getRequest(requester, request.id)).status).toBe('pending');

  await pane.getByLabel('Reason for cancelling (required)').fill('superseded by CHG-88');
  await pane.getByRole('button', { name: 'Cancel request' }).click();
  await expect(root.page.getByText('Request cancelled; the requester is told why.')).toBeVisible();
  await expect(pane.getByTestId('status')).toHaveText(`cancelled by ${admin.name}: superseded by CHG-88`);

  await openTab(alice.page, 'My requests');
  await expect(myRequest(alice.page, resource).getByTestId('status')).toHaveText(`cancelled by ${admin.name}: superseded by CHG-88`);
  expect((await getRequest(requester, request.id)).status).toBe('cancelled');
});
