import { readFile } from 'node:fs/promises';
import { adminUser, auditExport, createUser, decide, submitRequest, unique } from './support/hub-api.js';
import type { Page } from '@playwright/test';
import { expect, openTab, shot, test } from './support/fixtures.js';

/** Records every read of an export's body as text, JSON or a buffer, from here on in the page. */
async function watchExportReads(page: Page): Promise<void> {
  await page.evaluate(() => {
    const reads: string[] = [];
    (window as unknown as { exportReads: string[] }).exportReads = reads;
    for (const name of ['text', 'json', 'arrayBuffer', 'bytes'] as const) {
      const original = Response.prototype[name] as (this: Response) => Promise<unknown>;
      Object.defineProperty(Response.prototype, name, {
        configurable: true,
        value(this: Response) {
          if (/\/api\/v1\/audit\?.*format=(csv|jsonl)/.test(this.url)) reads.push(name);
          return original.call(this);
        },
      });
    }
  });
}

const exportReads = (page: Page) => page.evaluate(() => (window as unknown as { exportReads: string[] }).exportReads);

test('an admin filters the audit log by resource and exports the decisions as CSV', async ({ actors }, testInfo) => {
  const requester = await createUser('alice', ['requester']);
  const approver = await createUser('bob', ['approver'], ['platform']);
  const resource = unique('ledger');
  const other = unique('unrelated');
  const approved = await submitRequest(requester, { action: 'config', resource, environment: 'production', reason: 'audit me for Zoë', risk: 'low' });
  await decide(approver, approved.id, 'approve', 'fine by me');
  const denied = await submitRequest(requester, { action: 'config', resource, environment: 'staging', reason: 'and me', risk: 'low' });
  await decide(approver, denied.id, 'deny', 'not now');
  await submitRequest(requester, { action: 'config', resource: other, environment: 'production', reason: 'noise', risk: 'low' });

  const admin = await actors.open(adminUser());
  await openTab(admin.page, 'History');
  const filters = admin.page.getByRole('search', { name: 'Filter the audit log' });
  await filters.getByLabel('Resource').fill(resource);
  await filters.getByRole('button', { name: 'Apply filters' }).click();
  const table = admin.page.getByRole('region', { name: 'Audit events' });
  const rows = table.locator('tbody tr');
  await expect(rows.filter({ hasText: 'request.approved' })).toHaveCount(1);
  await expect(rows.filter({ hasText: 'request.denied' })).toHaveCount(1);
  await expect(rows.filter({ hasText: other })).toHaveCount(0);
  for (const text of await rows.allInnerTexts()) expect(text).toContain(resource);
  await shot(admin.page, testInfo, 'history-filtered');
  await admin.page.emulateMedia({ colorScheme: 'dark' });
  await shot(admin.page, testInfo, 'history-filtered-dark');
  await admin.page.emulateMedia({ colorScheme: 'light' });

  await watchExportReads(admin.page);
  const [download] = await Promise.all([
    admin.page.waitForEvent('download'),
    admin.page.getByRole('button', { name: 'Export CSV' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^greenlight-audit-.+\.csv$/);
  const file = testInfo.outputPath(download.suggestedFilename());
  await download.saveAs(file);
  const bytes = await readFile(file);
  // A UTF-8 byte order mark first, or Excel shows "Zoë" as "ZoÃ«".
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  // Byte for byte what the hub sends for the same filter: nothing decoded and re-encoded on the way.
  expect(bytes.equals(await auditExport(`resource=${encodeURIComponent(resource)}`, 'csv'))).toBe(true);
  // Handed to the browser as a Blob: the page never read the export into a string (or a buffer to decode into one).
  expect(await exportReads(admin.page)).toEqual([]);
  await expect(admin.page.getByText(`Exporting the audit log as ${download.suggestedFilename()}.`)).toBeVisible();
  const csv = new TextDecoder().decode(bytes);
  expect(csv).toContain('audit me for Zoë');
  const lines = csv.trim().split('\n');
  expect(lines[0]).toContain('actor');
  expect(lines.some((line) => line.includes('request.approved') && line.includes(approver.name))).toBe(true);
  expect(lines.some((line) => line.includes('request.denied') && line.includes('not now'))).toBe(true);
  expect(csv).not.toContain(other);
  await testInfo.attach('audit.csv', { path: file, contentType: 'text/csv' });
});

test('history pages through the log and searches its text', async ({ actors }) => {
  const requester = await createUser('paula', ['requester']);
  // Someone in platform who could approve, or the hub refuses these with NO_APPROVERS.
  await createUser('bob', ['approver'], ['platform']);
  const word = unique('needle');
  for (let i = 0; i < 30; i++) {
    await submitRequest(requester, { action: 'config', resource: unique('page'), environment: 'production', reason: i === 7 ? `find the ${word}` : 'routine', risk: 'low' });
  }
  const admin = await actors.open(adminUser());
  await openTab(admin.page, 'History');
  const filters = admin.page.getByRole('search', { name: 'Filter the audit log' });
  await filters.getByLabel('Actor').fill(requester.name);
  await filters.getByRole('button', { name: 'Apply filters' }).click();
  await admin.page.getByLabel('Rows per page').selectOption('25');
  const rows = admin.page.getByRole('region', { name: 'Audit events' }).locator('tbody tr');
  await expect(rows).toHaveCount(25);
  const pager = admin.page.getByRole('navigation', { name: 'Audit pages' });
  await pager.getByRole('button', { name: 'Older →' }).click();
  await expect(rows).toHaveCount(5);
  await expect(pager.getByRole('button', { name: 'Older →' })).toBeDisabled();
  await pager.getByRole('button', { name: '← Newer' }).click();
  await expect(rows).toHaveCount(25);
  // A double click goes one page on, and the page number says so.
  await pager.getByRole('button', { name: 'Older →' }).dblclick();
  await expect(rows).toHaveCount(5);
  await expect(pager.getByText(/^Page \d+$/)).toHaveText('Page 2');
  await pager.getByRole('button', { name: '← Newer' }).click();
  await expect(rows).toHaveCount(25);
  await expect(pager.getByText(/^Page \d+$/)).toHaveText('Page 1');

  await filters.getByLabel('Search').fill(word);
  await filters.getByRole('button', { name: 'Apply filters' }).click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(word);
});

test('export takes the filters as typed, over several of the hub’s export pages, and a range that ends before it starts is refused', async ({ actors }, testInfo) => {
  test.setTimeout(120_000);
  const requester = await createUser('rita', ['requester']);
  await createUser('bob', ['approver'], ['platform']);
  const resource = unique('typed-filter');
  await submitRequest(requester, { action: 'config', resource, environment: 'production', reason: 'export me', risk: 'low' });
  // Staging deploys pass by policy, three events each (submitted, approved, grant issued): 1,201 with the one above, two pages of the hub's 1,000.
  const deploys = 400;
  for (let start = 0; start < deploys; start += 20) {
    await Promise.all(Array.from({ length: 20 }, (_, i) => submitRequest(requester, { action: 'deploy', resource, environment: 'staging', reason: `run ${start + i}`, risk: 'low' })));
  }
  await submitRequest(requester, { action: 'config', resource: unique('not-me'), environment: 'production', reason: 'leave me out', risk: 'low' });
  const admin = await actors.open(adminUser());
  await openTab(admin.page, 'History');
  const filters = admin.page.getByRole('search', { name: 'Filter the audit log' });

  // Typed, not applied: the export still honours it.
  await filters.getByLabel('Resource').fill(resource);
  const [download] = await Promise.all([admin.page.waitForEvent('download'), admin.page.getByRole('button', { name: 'Export JSONL' }).click()]);
  const file = testInfo.outputPath(download.suggestedFilename());
  await download.saveAs(file);
  const bytes = await readFile(file);
  expect(bytes.equals(await auditExport(`resource=${encodeURIComponent(resource)}`, 'jsonl'))).toBe(true);
  const events = bytes.toString('utf8').trim().split('\n').map((line) => JSON.parse(line) as { resource: string | null });
  expect(events).toHaveLength(1 + deploys * 3);
  expect(events.every((event) => event.resource === resource)).toBe(true);

  await filters.getByLabel('From', { exact: true }).fill('2026-12-02T10:00');
  await filters.getByLabel('To', { exact: true }).fill('2026-12-01T10:00');
  await filters.getByRole('button', { name: 'Apply filters' }).click();
  await expect(admin.page.getByRole('alert').filter({ hasText: '“From” is after “To”' })).toBeVisible();
  await filters.getByRole('button', { name: 'Clear' }).click();
  await expect(admin.page.getByRole('alert').filter({ hasText: '“From” is after “To”' })).toHaveCount(0);
});
