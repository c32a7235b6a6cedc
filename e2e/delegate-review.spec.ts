import { createUser, delegate, getRequest, submitRequest, unique } from './support/hub-api.js';
import { detail, expect, inboxRow, shot, test } from './support/fixtures.js';

test('a reviewer’s delegate finds the break-glass review in their inbox, reviews it for the reviewer, and the console says for whom', async ({ actors }, testInfo) => {
  const oncall = await createUser('dave', ['requester'], ['glass-oncall']);
  const away = await createUser('sue', ['approver'], ['glass-sec']);
  // Dana reviews nothing of her own: she reviews for sue.
  const stand = await createUser('dana', ['approver'], ['elsewhere']);
  await delegate(away, stand);
  const resource = unique('orders-db');
  const used = await submitRequest(oncall, {
    action: 'failover-db',
    resource,
    environment: 'production',
    reason: 'primary is down, customers cannot pay',
    breakGlass: { incident: 'INC-7731' },
  });

  const dana = await actors.open(stand);
  const row = inboxRow(dana.page, resource);
  await expect(row).toContainText('Review break-glass');
  await row.click();
  const pane = detail(dana.page);
  const review = pane.getByRole('region', { name: 'Break-glass review' });
  await expect(review.getByTestId('review-for')).toHaveText(`You review for ${away.name}, as their delegate.`);
  await shot(dana.page, testInfo, 'delegate-review');
  await review.getByLabel('Comment (required)').fill('matches the incident timeline');
  await review.getByRole('button', { name: 'Ratify', exact: true }).click();

  await expect(review.getByTestId('review-outcome')).toHaveText(`ratified by ${stand.name} for ${away.name}: matches the incident timeline`);
  await expect(pane.locator('ol.timeline')).toContainText(`${stand.name} reviewed the break-glass — ratified for ${away.name}: matches the incident timeline`);
  await expect(inboxRow(dana.page, resource)).toHaveCount(0);
  expect((await getRequest(away, used.id)).breakGlass).toMatchObject({ review: 'ratified', reviewedBy: stand.name, reviewedFor: away.name });
});

test('a delegate of two reviewers chooses in the console whom they review for, and it is recorded for that one', async ({ actors }) => {
  const oncall = await createUser('dave', ['requester'], ['glass-oncall']);
  const first = await createUser('sue', ['approver'], ['glass-sec']);
  const second = await createUser('yan', ['approver'], ['glass-sec']);
  const stand = await createUser('dana', ['approver'], ['elsewhere']);
  await delegate(first, stand);
  await delegate(second, stand);
  const resource = unique('orders-db');
  const used = await submitRequest(oncall, {
    action: 'failover-db',
    resource,
    environment: 'production',
    reason: 'primary is down, customers cannot pay',
    breakGlass: { incident: 'INC-7732' },
  });

  const dana = await actors.open(stand);
  await inboxRow(dana.page, resource).click();
  const review = detail(dana.page).getByRole('region', { name: 'Break-glass review' });
  await review.getByLabel('Comment (required)').fill('matches the incident timeline');
  // Nobody is picked for her: sending before choosing says what is missing and sends nothing.
  await review.getByRole('button', { name: 'Ratify', exact: true }).click();
  await expect(review.getByRole('alert')).toHaveText('Choose whom you review for: you stand in for more than one reviewer here.');
  expect((await getRequest(first, used.id)).breakGlass?.review).toBe('open');

  await review.getByLabel('Review for').selectOption({ label: `${second.name}, as their delegate` });
  await review.getByRole('button', { name: 'Ratify', exact: true }).click();
  await expect(review.getByTestId('review-outcome')).toHaveText(`ratified by ${stand.name} for ${second.name}: matches the incident timeline`);
  expect((await getRequest(first, used.id)).breakGlass).toMatchObject({ review: 'ratified', reviewedBy: stand.name, reviewedFor: second.name });
});
