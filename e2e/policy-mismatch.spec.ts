import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnHub, type SpawnedHub } from '../server/test-support/hub-process.js';
import { createTestDatabase, postgresAvailability } from '../server/test-support/postgres.js';
import { shiftedClockEnv } from '../server/test-support/shifted-clock.js';
import { detail, expect, shot, test } from './support/fixtures.js';

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

test.describe('two hubs on one database whose policies part and agree again', () => {
  test.skip(!pg.ok, pg.ok ? '' : pg.reason);
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let hubA: SpawnedHub, hubB: SpawnedHub;
  test.beforeAll(async () => {
    database = await createTestDatabase();
    hubA = await spawnHub({ policy: POLICY, args: ['--database-url', database.url], timeoutMs: 45_000 });
    hubB = await spawnHub({ policy: POLICY, adminToken: hubA.adminToken, args: ['--database-url', database.url], timeoutMs: 45_000 });
  });
  test.afterAll(async () => {
    await Promise.all([hubA?.stop(), hubB?.stop()]);
    await database?.drop();
  });

  test('shows the admin, as it happens, which hub runs another policy, and clears it once the files match again', async ({ actors }, testInfo) => {
    const admin = await actors.open({ name: 'admin', token: hubA.adminToken, roles: ['admin', 'approver'], groups: [] }, { url: hubA.url });
    const mismatch = detail(admin.page).getByRole('region', { name: 'Hubs run different policies' });
    await expect(detail(admin.page).getByRole('heading', { name: 'Keys' })).toBeVisible();
    await expect(mismatch).toHaveCount(0);

    // Nobody touches the console from here on: what it shows comes from the hub's pushes.
    writeFileSync(path.join(hubB.dataDir, 'policy.yaml'), WITH_STAGING);
    await expect(mismatch).toBeVisible();
    const other = mismatch.getByRole('listitem');
    await expect(other).toHaveCount(1);
    // Hub B has no public URL: it is named by its host name and port, not the loopback address it listens on.
    await expect(other).toContainText(`http://${os.hostname()}:${new URL(hubB.url).port}`);
    await expect(other).toContainText(path.join(hubB.dataDir, 'policy.yaml'));
    await expect(mismatch.getByTestId('policy-advice')).toContainText('Deploy the same policy file to every hub');
    await shot(admin.page, testInfo, 'policy-mismatch');

    writeFileSync(path.join(hubB.dataDir, 'policy.yaml'), POLICY);
    await expect(mismatch).toHaveCount(0);
    await expect(detail(admin.page).getByRole('heading', { name: 'Keys' })).toBeVisible();
  });
});

test.describe('a hub whose system clock is 2 minutes ahead of its database', () => {
  test.skip(!pg.ok, pg.ok ? '' : pg.reason);
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let hub: SpawnedHub;
  test.beforeAll(async () => {
    database = await createTestDatabase();
    hub = await spawnHub({ policy: POLICY, args: ['--database-url', database.url], env: shiftedClockEnv(120_000), timeoutMs: 45_000 });
  });
  test.afterAll(async () => {
    await hub?.stop();
    await database?.drop();
  });

  test('tells the admin by how much, and to synchronise it', async ({ actors }, testInfo) => {
    const admin = await actors.open({ name: 'admin', token: hub.adminToken, roles: ['admin', 'approver'], groups: [] }, { url: hub.url });
    const clock = detail(admin.page).getByRole('region', { name: "This hub's clock is off" });
    await expect(clock.getByTestId('clock-advice')).toContainText("This hub's system clock is 2 min ahead of the database's");
    await expect(clock.getByTestId('clock-advice')).toContainText('synchronise it (NTP)');
    await shot(admin.page, testInfo, 'clock-warning');
  });
});
