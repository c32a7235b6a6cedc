import { DateTime } from 'luxon';
import { createUser, decide, getRequest, submitRequest, unique } from './support/hub-api.js';
import { detail, expect, inboxRow, myRequest, openTab, shot, test } from './support/fixtures.js';

const HOUR = 3_600_000;
/** A time as a person in `zone` types it into a date-and-time field, to the minute. */
const localInput = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone }).toFormat("yyyy-MM-dd'T'HH:mm");
const clock = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone }).toFormat('HH:mm');
const minute = (ms: number) => Math.floor(ms / 60_000) * 60_000;

test('scheduling from the form: access starts at the chosen local time and approvers see when it runs', async ({ actors }, testInfo) => {
  const requester = await createUser('sched-req', ['requester']);
  const approver = await createUser('sched-apr', ['approver'], ['maintainers']);
  const resource = unique('orders-db');
  const start = minute(Date.now() + 7 * HOUR);

  const alice = await actors.open(requester, { timezoneId: 'Europe/Berlin' });
  const bob = await actors.open(approver, { timezoneId: 'Europe/Berlin' });
  await openTab(alice.page, 'New request');
  const form = alice.page.getByRole('form', { name: 'Ask for access' });
  await form.getByLabel('Action', { exact: true }).selectOption('schedule-maintenance');
  await form.getByLabel('Environment', { exact: true }).fill('production');
  await form.getByLabel('Resource', { exact: true }).fill(resource);
  await form.getByLabel('Reason', { exact: true }).fill('Index rebuild in the maintenance window');
  await expect(form.getByText(/Your local time \(UTC\+0[12]:00\)/)).toBeVisible();
  await form.getByLabel('Start', { exact: true }).fill(localInput(start, 'Europe/Berlin'));
  await form.getByLabel('Access for (optional)').fill('2h');
  await shot(alice.page, testInfo, 'new-request-with-start');
  await form.getByRole('button', { name: 'Submit request' }).click();

  const card = myRequest(alice.page, resource);
  const runs = `runs ${clock(start, 'Europe/Berlin')}–${clock(start + 2 * HOUR, 'Europe/Berlin')}`;
  await expect(card.getByTestId('schedule')).toContainText(/starts in (6h 5\dm|7h)/);
  await expect(card.getByTestId('schedule')).toContainText(runs);
  const id = await card.getAttribute('data-request-id');
  expect((await getRequest(requester, id!)).notBefore).toBe(new Date(start).toISOString());

  await expect(inboxRow(bob.page, resource).getByTestId('schedule')).toContainText(runs);
  await inboxRow(bob.page, resource).click();
  await expect(detail(bob.page).getByTestId('schedule')).toContainText(runs);
  await shot(bob.page, testInfo, 'inbox-scheduled-request');
});

test('a start further ahead than the rule allows is refused beside the Start field, with the latest start in local time', async ({ actors }) => {
  const requester = await createUser('sched-req', ['requester']);
  const resource = unique('orders-db');
  const alice = await actors.open(requester, { timezoneId: 'Asia/Tokyo' });
  await openTab(alice.page, 'New request');
  const form = alice.page.getByRole('form', { name: 'Ask for access' });
  await form.getByLabel('Action', { exact: true }).selectOption('schedule-maintenance');
  await form.getByLabel('Environment', { exact: true }).fill('production');
  await form.getByLabel('Resource', { exact: true }).fill(resource);
  await form.getByLabel('Reason', { exact: true }).fill('Next quarter\'s index rebuild');
  await form.getByLabel('Start', { exact: true }).fill(localInput(minute(Date.now() + 20 * 24 * HOUR), 'Asia/Tokyo'));
  await form.getByRole('button', { name: 'Submit request' }).click();

  const start = form.getByLabel('Start', { exact: true });
  await expect(start).toHaveAttribute('aria-invalid', 'true');
  await expect(start).toBeFocused();
  await expect(start).toHaveAccessibleDescription(/Must be at most 14d ahead .*latest is /);
  // The latest start in the requester's own time, not the hub's UTC.
  await expect(start).not.toHaveAccessibleDescription(/\d{4}-\d{2}-\d{2}T/);
  await expect(form.getByRole('alert')).toHaveText('One field needs attention: Start.');
  await expect(form.getByLabel('Resource', { exact: true })).toHaveValue(resource);
});

test('approving with a changed start: the requester sees the new start and the grant waits for it', async ({ actors }) => {
  const requester = await createUser('sched-req', ['requester']);
  const approver = await createUser('sched-apr', ['approver'], ['maintainers']);
  const resource = unique('billing-db');
  const asked = minute(Date.now() + 2 * HOUR);
  const moved = minute(Date.now() + 5 * HOUR);
  const request = await submitRequest(requester, {
    action: 'schedule-maintenance',
    resource,
    environment: 'production',
    reason: 'Vacuum after the import',
    notBefore: new Date(asked).toISOString(),
    requestedTtlSeconds: 3600,
  });

  // The approver works in New York, the requester in Berlin: each types and reads their own local time.
  const bob = await actors.open(approver, { timezoneId: 'America/New_York' });
  const alice = await actors.open(requester, { timezoneId: 'Europe/Berlin' });
  await inboxRow(bob.page, resource).click();
  const pane = detail(bob.page);
  const startField = pane.getByLabel('Access starts');
  await expect(startField).toHaveValue(localInput(asked, 'America/New_York'));
  await startField.fill(localInput(moved, 'America/New_York'));
  await pane.getByLabel('Comment (required to deny)').fill('After the nightly import finishes');
  await pane.getByRole('button', { name: /^Approve/ }).click();
  await expect(pane.getByTestId('status')).toHaveText(`approved by ${approver.name}`);

  const decided = await getRequest(requester, request.id);
  expect(decided.notBefore).toBe(new Date(moved).toISOString());
  expect(decided.grant?.notBefore).toBe(new Date(moved).toISOString());
  expect(decided.timeline.find((entry) => entry.type === 'request.approved')?.detail).toContain(`start moved from ${new Date(asked).toISOString()} to ${new Date(moved).toISOString()}`);

  await openTab(alice.page, 'My requests');
  const card = myRequest(alice.page, resource);
  await expect(card.getByTestId('schedule')).toContainText(`runs ${clock(moved, 'Europe/Berlin')}–${clock(moved + HOUR, 'Europe/Berlin')}`);
  await expect(card.getByTestId('grant-start')).toContainText(/starts in (4h 5\dm|5h)/);
});

test('a start moved by the first of two approvers is what the second approves, not the start the page first showed', async ({ actors }) => {
  const requester = await createUser('sched-req', ['requester']);
  const first = await createUser('sched-first', ['approver'], ['migrators']);
  const second = await createUser('sched-second', ['approver'], ['migrators']);
  const resource = unique('ledger-db');
  const asked = minute(Date.now() + 2 * HOUR);
  const moved = minute(Date.now() + 5 * HOUR);
  const request = await submitRequest(requester, { action: 'schedule-migration', resource, environment: 'production', reason: 'Split the ledger table', notBefore: new Date(asked).toISOString(), requestedTtlSeconds: 3600 });

  const carol = await actors.open(second, { timezoneId: 'Europe/Berlin' });
  await inboxRow(carol.page, resource).click();
  const pane = detail(carol.page);
  const startField = pane.getByLabel('Access starts');
  await expect(startField).toHaveValue(localInput(asked, 'Europe/Berlin'));

  // The first approver moves the start while Carol's page is open.
  await decide(first, request.id, 'approve', 'after the batch jobs', { notBefore: new Date(moved).toISOString() });
  await expect(startField).toHaveValue(localInput(moved, 'Europe/Berlin'));
  await pane.getByRole('button', { name: /^Approve/ }).click();
  await expect(pane.getByTestId('status')).toHaveText(/^approved/);
  const decided = await getRequest(requester, request.id);
  expect(decided.notBefore).toBe(new Date(moved).toISOString());
  expect(decided.grant?.notBefore).toBe(new Date(moved).toISOString());
});

test('extending from My requests: the first extension is approved at once and starts when the grant ends', async ({ actors }) => {
  const requester = await createUser('ext-req', ['requester']);
  const approver = await createUser('ext-apr', ['approver'], ['sessions']);
  const resource = unique('prod-shell');
  const request = await submitRequest(requester, { action: 'extend-session', resource, environment: 'production', reason: 'Debug the stuck queue' });
  const approved = await decide(approver, request.id, 'approve');
  const grant = approved.grant!;

  const alice = await actors.open(requester);
  await openTab(alice.page, 'My requests');
  const original = myRequest(alice.page, resource).filter({ hasNotText: 'extends grant' });
  await original.getByRole('button', { name: 'Extend' }).click();
  const extendForm = original.getByRole('form', { name: 'Extend access' });
  await extendForm.getByLabel('More time').fill('30m');
  await extendForm.getByLabel('Why').fill('The queue drains slower than expected');
  await extendForm.getByRole('button', { name: 'Ask for more time' }).click();

  const extension = myRequest(alice.page, resource).filter({ hasText: `extends grant ${grant.jti}` });
  await expect(extension.getByTestId('status')).toContainText('approved');
  await expect(extension.getByRole('region', { name: 'Grant' })).toBeVisible();
  // Already extended: no second Extend on the original grant.
  await expect(original.getByRole('button', { name: 'Extend' })).toHaveCount(0);

  const id = await extension.getAttribute('data-request-id');
  const extended = await getRequest(requester, id!);
  expect(extended.extends).toBe(grant.jti);
  expect(extended.grant?.notBefore).toBe(grant.expiresAt);
  // Asked for 30 minutes; the rule's grantTtl (10m) caps an extension as it caps any request.
  expect(Date.parse(extended.grant!.expiresAt) - Date.parse(grant.expiresAt)).toBe(10 * 60_000);
});
