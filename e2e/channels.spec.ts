import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnHub, type SpawnedHub } from '../server/test-support/hub-process.js';
import { expect, test } from './support/fixtures.js';

/** A hub of this spec's own: email is set up in its --config file, and its policy announces one rule by email. */
const POLICY = `
rules:
  - name: prod-deploys
    match: { action: deploy, environment: production }
    approvers: [sre]
    notify: [email]
    escalation:
      - { after: 10m, notify: [sre-leads], channels: [email] }
  - name: staging
    match: { action: deploy, environment: staging }
    approvers: [qa]
`;

let hub: SpawnedHub;
let configDir: string;

test.beforeAll(async () => {
  configDir = mkdtempSync(path.join(tmpdir(), 'greenlight-e2e-channels-'));
  const config = path.join(configDir, 'hub.yaml');
  // Nothing is submitted here, so no message is sent: the server only has to be named.
  writeFileSync(config, 'notifiers:\n  email:\n    smtp: { host: 127.0.0.1, port: 2525 }\n    from: "Greenlight <greenlight@example.com>"\n');
  hub = await spawnHub({ policy: POLICY, args: ['--config', config] });
});
test.afterAll(async () => {
  await hub?.stop();
  rmSync(configDir, { recursive: true, force: true });
});

const reachList = (page: import('@playwright/test').Page) => page.getByRole('region', { name: 'Where requests reach you' }).getByRole('list', { name: 'Channels' });

test('Settings shows an approver that email reaches them, at their address, for the rules that announce by email', async ({ actors }) => {
  const bob = await hub.createUser({ name: 'bob', roles: ['approver'], groups: ['sre'], email: 'bob@example.com' });
  const page = (await actors.open({ ...bob, roles: ['approver'], groups: ['sre'] }, { url: hub.url })).page;
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();

  const list = reachList(page);
  await expect(list.locator('li[data-channel="app"]')).toContainText('Greenlight app reaches you');
  const email = list.locator('li[data-channel="email"]');
  await expect(email).toContainText('Email reaches you at bob@example.com');
  await expect(email).toContainText('Requests of rule prod-deploys are emailed to you, with Approve and Deny links.');
  await expect(list.locator('li[data-channel="webhook"]')).toContainText('does not reach you');
  // The desktop app's own switches are not offered in the browser, and it says so.
  await expect(page.getByText('not available in the web console')).toBeVisible();
});

test('Settings tells an approver without an address, or outside every emailing rule, why email does not reach them', async ({ actors }) => {
  const dave = await hub.createUser({ name: 'dave', roles: ['approver'], groups: ['sre'] });
  const davePage = (await actors.open({ ...dave, roles: ['approver'], groups: ['sre'] }, { url: hub.url })).page;
  await davePage.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
  const daveEmail = reachList(davePage).locator('li[data-channel="email"]');
  await expect(daveEmail).toContainText('Email does not reach you');
  await expect(daveEmail).toContainText('You have no email address here; an admin can add one in Users.');

  const quinn = await hub.createUser({ name: 'quinn', roles: ['approver'], groups: ['qa'], email: 'quinn@example.com' });
  const quinnPage = (await actors.open({ ...quinn, roles: ['approver'], groups: ['qa'] }, { url: hub.url })).page;
  await quinnPage.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
  const quinnEmail = reachList(quinnPage).locator('li[data-channel="email"]');
  await expect(quinnEmail).toContainText('Email does not reach you at quinn@example.com');
  await expect(quinnEmail).toContainText('No rule that asks you announces its requests by email.');
});
