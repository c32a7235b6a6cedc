import path from 'node:path';
import type { GreenlightRequest } from '../protocol/index.js';
import { ManualClock } from '../server/clock.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../server/test-support/hub-fixture.js';
import type { TestUser as BrowserUser } from './support/hub-api.js';
import { expect, openTab, shot, test } from './support/fixtures.js';

/**
 * The report needs durations known to the second, so this spec runs its own hub (the suite's hub
 * keeps real time) with a clock it moves, serving the built console.
 */
const POLICY = `
rules:
  - name: prod
    match: { action: deploy, environment: production }
    approvers: [sre]
    escalation:
      - { after: 5m, notify: [leads] }
    expireAfter: 1h
  - name: db
    match: { action: db-open }
    approvers: [sre]
  - name: staging
    match: { action: deploy, environment: staging }
    autoApprove: true
`;

const clock = new ManualClock('2030-01-01T09:00:00.000Z');
const hub = new TestHub('sqlite', { policy: POLICY, clock, consoleDir: path.resolve('renderer/dist') });
const admin: BrowserUser = { name: 'admin', token: ADMIN_TOKEN, roles: ['admin'], groups: [] };

test.beforeAll(async () => {
  await hub.start();
  const alice = await hub.createUser('alice', ['requester']);
  const bob = await hub.createUser('bob', ['approver'], ['sre']);
  await hub.createUser('lena', ['lead'], ['leads']);
  const advance = async (seconds: number) => {
    clock.advance(seconds * 1000);
    await hub.hub.scheduler.runNow();
  };
  const submit = async (user: TestUser, body: unknown) => (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', user.token, body)).body;
  const decide = (id: string, decision: 'approve' | 'deny') => hub.api('POST', `/api/v1/requests/${id}/decisions`, bob.token, { decision, comment: 'checked' });

  // Two months before the report's "now": a db request decided after 10 s.
  const old = await submit(alice, { action: 'db-open', resource: 'ledger-db', environment: 'production', reason: 'month end', risk: 'medium' });
  await advance(10);
  await decide(old.id, 'approve');

  // This morning: prod decided after 60, 120, 180 and 600 s (the last escalated first), one left to expire; two staging deploys pass by policy.
  clock.set('2030-03-01T09:00:00.000Z');
  const prod: GreenlightRequest[] = [];
  for (let i = 0; i < 5; i++) prod.push(await submit(alice, deployRequest({ reason: `prod ${i}` })));
  await submit(alice, deployRequest({ environment: 'staging', reason: 'auto one' }));
  await submit(alice, deployRequest({ environment: 'staging', reason: 'auto two' }));
  const decisions: [number, 'approve' | 'deny'][] = [[60, 'approve'], [60, 'approve'], [60, 'approve'], [420, 'deny']];
  for (const [index, [wait, decision]] of decisions.entries()) {
    await advance(wait);
    await decide(prod[index]!.id, decision);
  }
  await advance(3_000);
});

test.afterAll(() => hub.dispose());

test('History shows time to decision per rule, charted, with the numbers beside the chart', async ({ actors }, testInfo) => {
  const { page } = await actors.open(admin, { url: hub.url });
  await openTab(page, 'History');
  const panel = page.getByRole('region', { name: 'Time to decision' });
  const table = panel.getByRole('region', { name: 'Time to decision per rule' });
  const cells = (rule: string) => table.locator(`tr[data-rule="${rule}"]`).locator('th, td');

  // The last 30 days (the default): this morning's requests, not the db request from January.
  await expect(cells('prod')).toHaveText(['prod', '5', '4', '2m 30s', '8m 57s', '40%', '20%', '0%']);
  await expect(cells('staging')).toHaveText(['staging', '2', '0', '—', '—', '0%', '0%', '100%']);
  await expect(table.locator('tr[data-rule="db"]')).toHaveCount(0);

  // The chart is drawn (pixels on the canvas) and says in words what it shows.
  const chart = panel.getByRole('img', { name: /Time to decision per rule/ });
  await expect(chart).toHaveAttribute('aria-label', /prod: median 2m 30s, 95th percentile 8m 57s/);
  await expect.poll(() => chart.evaluate((canvas: HTMLCanvasElement) => {
    const context = canvas.getContext('2d');
    if (!context) return 0;
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) painted++;
    return painted;
  })).toBeGreaterThan(1000);
  // Beside it on a wide screen: the table starts level with the chart, to its right.
  const [chartBox, tableBox] = [await chart.boundingBox(), await table.boundingBox()];
  expect(chartBox && tableBox && tableBox.x >= chartBox.x + chartBox.width && Math.abs(tableBox.y - chartBox.y) < 40).toBe(true);
  expect(await table.evaluate((node) => node.scrollWidth <= node.clientWidth), 'every column of the table in view').toBe(true);
  await shot(page, testInfo, 'report-30-days');

  // A wider range takes in January's db request.
  await panel.getByLabel('Submitted in').selectOption({ label: 'the last 90 days' });
  await expect(cells('db')).toHaveText(['db', '1', '1', '10s', '10s', '0%', '0%', '0%']);
  await expect(chart).toHaveAttribute('aria-label', /db: median 10s/);
});

test('the report reads well at 390 px: chart above its numbers, nothing off screen', async ({ actors }, testInfo) => {
  const { page } = await actors.open(admin, { url: hub.url, viewport: { width: 390, height: 844 } });
  await openTab(page, 'History');
  const panel = page.getByRole('region', { name: 'Time to decision' });
  const table = panel.getByRole('region', { name: 'Time to decision per rule' });
  await expect(table.locator('tr[data-rule="prod"] td').nth(2)).toHaveText('2m 30s');
  const chart = panel.getByRole('img', { name: /Time to decision per rule/ });
  const [chartBox, tableBox] = [await chart.boundingBox(), await table.boundingBox()];
  expect(chartBox && tableBox && tableBox.y >= chartBox.y + chartBox.height - 1).toBe(true);
  expect(chartBox && chartBox.x >= 0 && chartBox.x + chartBox.width <= 390).toBe(true);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await shot(page, testInfo, 'report-390');
});
