import { createUser, hubUrl, submitRequest, unique } from './support/hub-api.js';
import { detail, expect, test } from './support/fixtures.js';

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
