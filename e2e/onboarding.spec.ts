import path from 'node:path';
import type { Page } from '@playwright/test';
import { spawnHub, type SpawnedHub } from '../server/test-support/hub-process.js';
import { createUser, submitRequest, unique } from './support/hub-api.js';
import { detail, expect, openTab, shot, test } from './support/fixtures.js';

const nav = (page: Page) => page.getByRole('navigation', { name: 'Main' });
const pane = detail;

test.describe('a brand-new hub', () => {
  // Its own hub: "nobody else can sign in yet" is about a hub no other spec has added people to.
  const POLICY = `
rules:
  - name: prod
    match: { action: deploy, environment: production }
    approvers: [sre]
    expireAfter: 1h
  - name: databases
    match: { action: query }
    approvers: [dba]
    expireAfter: 1h
`;
  let hub: SpawnedHub;
  test.beforeAll(async () => {
    hub = await spawnHub({ policy: POLICY, args: ['--rate-limit', '100000'], timeoutMs: 45_000 });
  });
  test.afterAll(() => hub?.stop());

  test('tells its admin what to do next, and the guide follows each fix until the hub is ready', async ({ actors }, testInfo) => {
    const admin = await actors.open({ name: 'admin', token: hub.adminToken, roles: ['admin', 'approver'], groups: ['admins'] }, { url: hub.url });
    const guide = pane(admin.page).getByRole('region', { name: 'Finish setting up Greenlight' });
    await expect(guide).toBeVisible();
    await expect(guide.getByTestId('setup-alone')).toHaveText('Nobody but you can sign in yet.');
    await expect(guide).toContainText('one of the policy’s groups (sre, dba)');
    await expect(guide.getByTestId('policy-file')).toHaveText(path.join(hub.dataDir, 'policy.yaml'));
    await expect(guide).toContainText('(2 rules)');
    await expect(guide.locator('pre.command')).toHaveText('greenlight request --action deploy --resource my-service --env production --reason "first try" --wait');
    await shot(admin.page, testInfo, 'onboarding-alone');
    // The last step's button opens the form.
    await guide.getByRole('button', { name: 'New request' }).click();
    await expect(admin.page.getByRole('form', { name: 'Ask for access' })).toBeVisible();
    await openTab(admin.page, 'Inbox');

    // Step one leads to the Users view, where the first approver is added.
    await guide.getByRole('button', { name: 'Open Users' }).click();
    await expect(admin.page.getByRole('heading', { name: 'Users' })).toBeVisible();
    await admin.page.getByRole('button', { name: 'Add user' }).click();
    const form = admin.page.getByRole('form', { name: 'Add a user' });
    await expect(form.getByText('The policy asks these groups to approve: sre, dba.')).toBeVisible();
    await form.getByLabel('Name').fill('sam');
    await form.getByRole('checkbox', { name: /^approver/ }).check();
    await form.getByLabel('Groups (optional)').fill('sre');
    await form.getByRole('button', { name: 'Add user' }).click();
    await admin.page.getByRole('button', { name: 'Done' }).click();

    // Not alone any more, but nobody can approve database access yet.
    await openTab(admin.page, 'Inbox');
    await expect(guide.getByTestId('setup-unstaffed')).toHaveText('Nobody can approve for group dba: requests their rules match wait until they expire.');
    await expect(guide.getByTestId('setup-alone')).toHaveCount(0);
    await shot(admin.page, testInfo, 'onboarding-unstaffed');

    // A requester alone does not staff a group: only someone who may decide does.
    await hub.createUser({ name: 'rita', roles: ['requester'], groups: ['dba'] });
    await openTab(admin.page, 'Users');
    await openTab(admin.page, 'Inbox');
    await expect(guide.getByTestId('setup-unstaffed')).toContainText('group dba');
    await hub.createUser({ name: 'dora', roles: ['approver'], groups: ['dba'] });
    await openTab(admin.page, 'Users');
    await openTab(admin.page, 'Inbox');
    await expect(pane(admin.page).getByRole('heading', { name: 'Keys' })).toBeVisible();
    await expect(guide).toHaveCount(0);
    await expect(pane(admin.page)).toContainText('Nothing waits on you.');
  });
});

test('someone who only asks lands on their own requests and has no Inbox tab', async ({ actors }) => {
  const requester = await actors.open(await createUser('quinn', ['requester']));
  await expect(requester.page.getByRole('heading', { name: 'My requests' })).toBeVisible();
  await expect(nav(requester.page).getByRole('button', { name: 'Inbox' })).toHaveCount(0);
  await expect(nav(requester.page).getByRole('button', { name: 'New request' })).toBeVisible();
  await requester.page.reload();
  await expect(requester.page.getByRole('heading', { name: 'My requests' })).toBeVisible();
  await expect(nav(requester.page).getByRole('button', { name: 'Inbox' })).toHaveCount(0);
});

test('with nothing selected, the detail pane explains the keys and shows what comes due next', async ({ actors }, testInfo) => {
  const requester = await createUser('una', ['requester']);
  const approver = await actors.open(await createUser('vic', ['approver'], ['welcome']));
  await expect(pane(approver.page)).toContainText('Nothing waits on you.');
  await submitRequest(requester, { action: 'onboard', resource: unique('calm'), environment: 'production', reason: 'routine', risk: 'low' });
  const urgent = await submitRequest(requester, { action: 'onboard', resource: unique('urgent'), environment: 'production', reason: 'on fire', risk: 'critical' });

  const next = pane(approver.page).getByRole('region', { name: 'Next up' });
  await expect(next).toContainText(urgent.resource);
  await expect(next.getByTestId('next-deadline')).toHaveText(/^expires in (59m|1h)/);
  const keys = pane(approver.page).getByRole('region', { name: 'Keys' });
  for (const key of ['j', 'k', 'a', 'd', 'c']) await expect(keys.locator('kbd', { hasText: new RegExp(`^${key}$`) })).toBeVisible();
  await expect(keys).toContainText('claim it: other approvers see you are on it, and escalation waits');
  await shot(approver.page, testInfo, 'inbox-empty-detail');

  await next.getByRole('button', { name: 'Open it' }).click();
  await expect(pane(approver.page).getByTestId('reason')).toHaveText('on fire');
  await approver.page.keyboard.press('Escape');
  await expect(next).toContainText(urgent.resource);
  // j opens the most urgent, as "Next up" promised.
  await approver.page.keyboard.press('j');
  await expect(pane(approver.page).getByTestId('reason')).toHaveText('on fire');
  await approver.page.keyboard.press('j');
  await expect(pane(approver.page).getByTestId('reason')).toHaveText('routine');
});

test('the New request tab starts fresh when you come back to it after submitting', async ({ actors }) => {
  // Someone can approve config changes, or the hub would refuse the request (NO_APPROVERS).
  await createUser('pat', ['approver'], ['platform']);
  const requester = await actors.open(await createUser('wes', ['requester']));
  await openTab(requester.page, 'New request');
  const form = requester.page.getByRole('form', { name: 'Ask for access' });
  const resource = unique('fresh-form');
  await form.getByLabel('Action', { exact: true }).selectOption('config');
  await form.getByLabel('Environment', { exact: true }).fill('production');
  await form.getByLabel('Resource', { exact: true }).fill(resource);
  await form.getByLabel('Reason', { exact: true }).fill('first of two');
  await form.getByRole('button', { name: 'Submit request' }).click();
  await expect(requester.page.getByRole('heading', { name: 'Request submitted' })).toBeVisible();

  await openTab(requester.page, 'My requests');
  await openTab(requester.page, 'New request');
  await expect(requester.page.getByRole('heading', { name: 'Request submitted' })).toHaveCount(0);
  await expect(form).toBeVisible();
  await expect(form.getByLabel('Resource', { exact: true })).toHaveValue('');
  await expect(form.getByLabel('Reason', { exact: true })).toHaveValue('');
});
