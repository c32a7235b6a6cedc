import { createUser, decide, delegate, getRequest, submitRequest, unique } from './support/hub-api.js';
import { detail, expect, inboxRow, myRequest, openTab, shot, test } from './support/fixtures.js';

test('delegating from Settings: the delegate finds the request in their inbox and approves it on the delegator’s behalf', async ({ actors }, testInfo) => {
  const requester = await createUser('alice', ['requester']);
  const away = await createUser('bob', ['approver'], ['away']);
  const stand = await createUser('carol', ['approver'], ['elsewhere']);
  const bob = await actors.open(away);
  await openTab(bob.page, 'Settings');
  const section = bob.page.getByRole('region', { name: 'While I’m away' });
  await section.getByLabel('Who decides for me').fill(stand.name);
  const lastDay = new Date(Date.now() + 3 * 86_400_000);
  const day = `${lastDay.getFullYear()}-${String(lastDay.getMonth() + 1).padStart(2, '0')}-${String(lastDay.getDate()).padStart(2, '0')}`;
  await section.getByLabel('Last day away').fill(day);
  await section.getByLabel('Why').fill('holiday');
  await section.getByRole('button', { name: 'Delegate my approvals' }).click();
  await expect(section.getByTestId('delegation')).toContainText(`${stand.name} decides for you`);
  await shot(bob.page, testInfo, 'delegation-settings');

  const resource = unique('signing-key');
  const request = await submitRequest(requester, { action: 'hand-over', resource, environment: 'production', reason: 'quarterly rotation', risk: 'medium' });
  // Carol signs in after the delegation exists: her sync carries whose approvals she gives.
  const carol = await actors.open(stand);
  await inboxRow(carol.page, resource).click();
  await detail(carol.page).getByRole('button', { name: /^Approve/ }).click();
  await expect(detail(carol.page).getByTestId('status')).toHaveText(/^approved/);
  const decided = await getRequest(requester, request.id);
  expect(decided.decisions).toEqual([expect.objectContaining({ approver: away.name, by: stand.name })]);

  // Ending it at once takes the right away.
  await section.getByRole('button', { name: 'End now' }).click();
  await expect(section.getByTestId('delegation')).toHaveCount(0);
});

test('a delegate claims and votes for their delegator, and the panel then says whose vote they cast', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  const away = await createUser('bob', ['approver'], ['away-pair']);
  // The rule needs two approvals: a pair with one member would be refused (NO_APPROVERS).
  await createUser('dan', ['approver'], ['away-pair']);
  const stand = await createUser('carol', ['approver'], ['elsewhere']);
  await delegate(away, stand);
  const resource = unique('pair-key');
  await submitRequest(requester, { action: 'hand-over-pair', resource, environment: 'production', reason: 'needs two', risk: 'medium' });
  const carol = await actors.open(stand);
  await inboxRow(carol.page, resource).click();
  const panel = detail(carol.page);

  // Claiming is open to whoever may decide: the delegate too.
  await panel.getByRole('button', { name: /^Claim/ }).click();
  await expect(panel.getByRole('button', { name: /^Release/ })).toBeVisible();
  await expect(carol.page.getByText('You are not an approver for this request')).toHaveCount(0);

  await panel.getByRole('button', { name: /^Approve/ }).click();
  await expect(panel.getByRole('status').filter({ hasText: 'You voted' })).toHaveText(`You voted for ${away.name}. Waiting for 1 more approval.`);
  await expect(panel).not.toContainText('You are not an approver');
});

test('a vote a delegate cast reads "carol for bob" in the Votes list and on the requester’s card', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  const away = await createUser('bob', ['approver'], ['away-pair']);
  const other = await createUser('dan', ['approver'], ['away-pair']);
  const stand = await createUser('carol', ['approver'], ['elsewhere']);
  await delegate(away, stand);
  const resource = unique('pair-key');
  const request = await submitRequest(requester, { action: 'hand-over-pair', resource, environment: 'production', reason: 'needs two', risk: 'medium' });
  await decide(stand, request.id, 'approve', 'fingerprint checked');
  const voteBy = `${stand.name} for ${away.name}`;

  // The other approver, deciding the rest, sees whose vote is in and who cast it.
  const dan = await actors.open(other);
  await inboxRow(dan.page, resource).click();
  await expect(detail(dan.page).locator('.votes-list li')).toHaveText([`${voteBy} approvedfingerprint checked`]);

  // The requester reads the comment under the name of whoever wrote it, for whom.
  const alice = await actors.open(requester);
  await openTab(alice.page, 'My requests');
  const card = myRequest(alice.page, resource);
  await expect(card.locator('p.small').filter({ hasText: 'fingerprint checked' })).toHaveText(`${voteBy}: fingerprint checked`);
  await card.getByText('Details: the change, votes and timeline').click();
  await expect(card.locator('.votes-list li')).toHaveText([`${voteBy} approvedfingerprint checked`]);
});

test('a delegate of two approvers says for whom they decide, and the vote is recorded for that one', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  const bob = await createUser('bob', ['approver'], ['away-pair']);
  const dan = await createUser('dan', ['approver'], ['away-pair']);
  const stand = await createUser('carol', ['approver'], ['elsewhere']);
  await delegate(bob, stand);
  await delegate(dan, stand);
  const resource = unique('pair-key');
  const request = await submitRequest(requester, { action: 'hand-over-pair', resource, environment: 'production', reason: 'needs two', risk: 'medium' });
  const carol = await actors.open(stand);
  await inboxRow(carol.page, resource).click();
  const panel = detail(carol.page);

  // Nothing is chosen for her: approving first asks whom for, and sends nothing.
  await panel.getByRole('button', { name: /^Approve/ }).click();
  await expect(panel.getByRole('alert')).toHaveText('Choose whom you decide for: you stand in for more than one approver here.');
  expect((await getRequest(requester, request.id)).decisions).toEqual([]);

  await panel.getByLabel('Decide for').selectOption(dan.name);
  await panel.getByRole('button', { name: /^Approve/ }).click();
  await expect(panel.getByRole('status').filter({ hasText: 'You voted' })).toHaveText(`You voted for ${dan.name}. Waiting for 1 more approval.`);
  expect((await getRequest(requester, request.id)).decisions).toEqual([expect.objectContaining({ approver: dan.name, by: stand.name })]);
});

test('a delegate of one approver is told for whom they decide', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  const away = await createUser('bob', ['approver'], ['away']);
  const stand = await createUser('carol', ['approver'], ['elsewhere']);
  await delegate(away, stand);
  const resource = unique('signing-key');
  await submitRequest(requester, { action: 'hand-over', resource, environment: 'production', reason: 'quarterly rotation', risk: 'medium' });
  const carol = await actors.open(stand);
  await inboxRow(carol.page, resource).click();
  await expect(detail(carol.page).getByTestId('decide-for')).toHaveText(`You decide for ${away.name}, as their delegate.`);
});
