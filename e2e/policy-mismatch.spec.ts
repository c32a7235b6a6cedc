import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnHub, type SpawnedHub } from '../server/test-support/hub-process.js';
import { createTestDatabase, postgresAvailability } from '../server/test-support/postgres.js';
import { detail, expect, openTab, shot, test } from './support/fixtures.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy, environment: production }
    approvers: [sre]
`;
/** One rule more than POLICY: a staging deploy one hub lets through and the other refuses. */
const WITH_STAGING = `${POLICY}
  - name: staging
    match: { action: deploy, environment: staging }
    autoApprove: true
`;

const pg = await postgresAvailability();

test.describe('two hubs on one database running different policies', () => {
  test.skip(!pg.ok, pg.ok ? '' : pg.reason);
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let hubA: SpawnedHub, hubB: SpawnedHub;
  test.beforeAll(async () => {
    database = await createTestDatabase();
    hubA = await spawnHub({ policy: POLICY, args: ['--database-url', database.url], timeoutMs: 45_000 });
    hubB = await spawnHub({ policy: WITH_STAGING, adminToken: hubA.adminToken, args: ['--database-url', database.url], timeoutMs: 45_000 });
  });
  test.afterAll(async () => {
    await Promise.all([hubA?.stop(), hubB?.stop()]);
    await database?.drop();
  });

  test("shows the admin which hub runs another policy, until that hub's file matches again", async ({ actors }, testInfo) => {
    const admin = await actors.open({ name: 'admin', token: hubA.adminToken, roles: ['admin', 'approver'], groups: [] }, { url: hubA.url });
    const mismatch = detail(admin.page).getByRole('region', { name: 'Hubs run different policies' });
    // The setup status is read as the pane opens: leave and come back until hub A has heard hub B.
    await expect(async () => {
      await openTab(admin.page, 'Users');
      await openTab(admin.page, 'Inbox');
      await expect(mismatch).toBeVisible({ timeout: 1_000 });
    }).toPass();
    const other = mismatch.getByRole('listitem');
    await expect(other).toHaveCount(1);
    // Hub B has no public URL: it is named by its host name and port, not the loopback address it listens on.
    await expect(other).toContainText(`http://${os.hostname()}:${new URL(hubB.url).port}`);
    await expect(other).toContainText(path.join(hubB.dataDir, 'policy.yaml'));
    await expect(mismatch.getByTestId('policy-advice')).toContainText('Deploy the same policy file to every hub');
    await shot(admin.page, testInfo, 'policy-mismatch');

    writeFileSync(path.join(hubB.dataDir, 'policy.yaml'), POLICY);
    await expect(async () => {
      await openTab(admin.page, 'Users');
      await openTab(admin.page, 'Inbox');
      await expect(detail(admin.page).getByRole('heading', { name: 'Keys' })).toBeVisible({ timeout: 1_000 });
      await expect(mismatch).toHaveCount(0, { timeout: 1_000 });
    }).toPass();
  });
});
