import type { Locator, Page } from '@playwright/test';
import { adminUser, claim, createUser, submitRequest, unique } from './support/hub-api.js';
import { detail, expect, inboxRow, myRequest, openTab, shot, test } from './support/fixtures.js';
import { hubUrl } from './support/hub-api.js';

/** Whether an element shows all of itself: nothing cut by its own box, nor by the box it sits in. */
async function clipping(element: Locator, container: Locator): Promise<string[]> {
  const inner = await element.boundingBox();
  const outer = await container.boundingBox();
  const own = await element.evaluate((node) => ({ sw: node.scrollWidth, cw: node.clientWidth, sh: node.scrollHeight, ch: node.clientHeight }));
  const problems: string[] = [];
  if (!inner || !outer) return ['not rendered'];
  if (own.sw > own.cw + 1) problems.push(`text wider than its box (${own.sw} > ${own.cw})`);
  if (own.sh > own.ch + 1) problems.push(`text taller than its box (${own.sh} > ${own.ch})`);
  if (inner.x < outer.x - 1 || inner.x + inner.width > outer.x + outer.width + 1) problems.push('sticks out sideways');
  if (inner.y < outer.y - 1 || inner.y + inner.height > outer.y + outer.height + 1) problems.push('sticks out below or above');
  return problems;
}

/** Whether `element` is inside the visible part of the scrolling `pane` and nothing is drawn over its middle. */
async function inView(element: Locator, pane: Locator): Promise<boolean> {
  const box = await element.boundingBox();
  const area = await pane.boundingBox();
  if (!box || !area) return false;
  if (box.y < area.y - 1 || box.y + box.height > area.y + area.height + 1) return false;
  return element.evaluate((node, point) => {
    const top = document.elementFromPoint(point.x, point.y);
    return top !== null && (node === top || node.contains(top));
  }, { x: box.x + Math.min(20, box.width / 2), y: box.y + box.height / 2 });
}

async function triageSetup(prefix: string) {
  const requester = await createUser('alice', ['requester']);
  const approver = await createUser('bob', ['approver'], ['triage']);
  const resource = unique(prefix);
  return { requester, approver, resource };
}

test('a claimed request says when it escalates in full: wrapped in the detail, shortened in the row, never cut off', async ({ actors }, testInfo) => {
  const { requester, approver, resource } = await triageSetup('claimed-svc');
  const request = await submitRequest(requester, { action: 'triage', resource, environment: 'production', reason: 'pager storm on the ledger', risk: 'high' });
  await claim(approver, request.id);

  for (const width of [1280, 390]) {
    const bob = await actors.open(approver, { viewport: { width, height: 800 } });
    const row = inboxRow(bob.page, resource);
    await expect(row).toBeVisible();
    const rowDeadline = row.locator('.deadline');
    await expect(rowDeadline).toHaveText(/^escalates in \d+m \d+s$/);
    // The row leaves the claim to its badge; the whole sentence is the tooltip.
    await expect(rowDeadline).toHaveAttribute('title', new RegExp(`held by ${approver.name}’s claim`));
    await expect(row.getByText(`claimed by ${approver.name}`)).toBeVisible();
    for (const part of [rowDeadline, row.getByText(`claimed by ${approver.name}`), row.locator('.badge').first()]) {
      expect(await clipping(part, row), `${width} px: row part "${await part.innerText()}"`).toEqual([]);
    }

    await row.click();
    const next = detail(bob.page).locator('.facts > div').filter({ has: bob.page.locator('dt', { hasText: 'Next' }) });
    const fact = next.locator('.deadline');
    await expect(fact).toHaveText(new RegExp(`^escalates in \\d+m \\d+s \\(held by ${approver.name}’s claim\\)$`));
    expect(await clipping(fact, next.locator('dd')), `${width} px: the Next fact`).toEqual([]);
    expect(await clipping(next, detail(bob.page).locator('.facts')), `${width} px: the Next fact in the facts grid`).toEqual([]);
    await shot(bob.page, testInfo, `claimed-${width}`);
  }
});

test('the list and the detail count down on one clock', async ({ actors }) => {
  const { requester, approver, resource } = await triageSetup('one-clock');
  await submitRequest(requester, { action: 'triage', resource, environment: 'production', reason: 'two countdowns, one time', risk: 'medium' });
  const bob = await actors.open(approver);
  await inboxRow(bob.page, resource).click();
  const read = (page: Page) =>
    page.evaluate((name) => {
      const row = [...document.querySelectorAll('[role="option"]')].find((node) => node.textContent?.includes(name));
      const pane = document.querySelector('[aria-label="Request detail"] .facts');
      return { row: row?.querySelector('.deadline time')?.textContent ?? '', detail: pane?.querySelector('.deadline time')?.textContent ?? '' };
    }, resource);
  let last = '';
  // Three ticks in a row: at every one, both places show the same time left.
  for (let tick = 0; tick < 3; tick++) {
    await expect.poll(async () => (await read(bob.page)).row).not.toBe(last);
    const seen = await read(bob.page);
    // A whole minute reads "2m", without "0s".
    expect(seen.row).toMatch(/^escalates in \d+m( \d+s)?$/);
    expect(seen.detail).toBe(seen.row);
    last = seen.row;
  }
});

test('deciding by keyboard keeps the request title in view', async ({ actors }, testInfo) => {
  const { requester, approver, resource } = await triageSetup('long-diff');
  const diff = ['--- a/ledger.yaml', '+++ b/ledger.yaml', '@@ -1,80 +1,80 @@', ...Array.from({ length: 80 }, (_, i) => `-limit_${i}: ${i}\n+limit_${i}: ${i * 2}`)].join('\n');
  await submitRequest(requester, { action: 'triage', resource, environment: 'production', reason: 'raise every limit', risk: 'high', context: { diff, logs: Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n') } });
  const bob = await actors.open(approver, { viewport: { width: 1280, height: 640 } });
  await inboxRow(bob.page, resource).click();
  const pane = detail(bob.page);
  const title = pane.getByRole('heading', { level: 2 });
  await expect(title).toContainText(resource);

  // Read down to the end of the change, then press a: the confirmation takes focus, the title stays.
  await pane.evaluate((node) => node.scrollTo({ top: node.scrollHeight }));
  await bob.page.keyboard.press('a');
  const yes = pane.getByRole('button', { name: 'Yes, approve' });
  await expect(yes).toBeFocused();
  expect(await inView(title, pane), 'title in view with the confirmation focused').toBe(true);
  expect(await inView(yes, pane), 'the focused button is not under the title').toBe(true);
  await shot(bob.page, testInfo, 'confirm-with-title');
  await bob.page.keyboard.press('Escape');

  // d with no comment puts focus in the comment box; the title stays too.
  await pane.evaluate((node) => node.scrollTo({ top: node.scrollHeight }));
  await bob.page.locator('body').press('d');
  const comment = pane.getByLabel('Comment (required to deny)');
  await expect(comment).toBeFocused();
  expect(await inView(title, pane), 'title in view with the comment box focused').toBe(true);
  expect(await inView(comment, pane), 'the comment box is not under the title').toBe(true);
});

test('history: the filter buttons sit side by side and empty values are left out', async ({ actors }, testInfo) => {
  const requester = await createUser('alice', ['requester']);
  await createUser('oncall', ['approver'], ['oncall']);
  await createUser('lena', ['lead'], ['leads']);
  const resource = unique('skipped');
  // The escalating rule fires after 3 s; its event has an empty "skipped" list.
  await submitRequest(requester, { action: 'restart', resource, environment: 'production', reason: 'escalate me', risk: 'low' });
  for (const width of [1280, 390]) {
    const admin = await actors.open(adminUser(), { viewport: { width, height: 900 } });
    await openTab(admin.page, 'History');
    const filters = admin.page.getByRole('search', { name: 'Filter the audit log' });
    const apply = filters.getByRole('button', { name: 'Apply filters' });
    const clear = filters.getByRole('button', { name: 'Clear' });
    // Both boxes measured in one frame: the report above the filters may still be loading and move
    // them down between two separate measurements.
    const boxes = () =>
      filters.evaluate((form) => {
        const [a, c] = ['Apply filters', 'Clear'].map((name) => [...form.querySelectorAll('button')].find((button) => button.textContent?.trim() === name || button.getAttribute('aria-label') === name)?.getBoundingClientRect());
        return a && c ? { sameLine: Math.abs(a.top - c.top) <= 1, oneLineEach: a.height <= 44 && c.height <= 44 } : null;
      });
    await expect(apply).toBeVisible();
    await expect(clear).toBeVisible();
    await expect.poll(boxes, { message: `${width} px: Apply and Clear on one line, each label on one line` }).toEqual({ sameLine: true, oneLineEach: true });
    await filters.getByLabel('Resource').fill(resource);
    await filters.getByLabel('Search').fill('request.escalated');
    await expect(async () => {
      await apply.click();
      await expect(admin.page.getByRole('region', { name: 'Audit events' }).locator('tbody tr')).toHaveCount(1, { timeout: 1_000 });
    }).toPass({ timeout: 20_000 });
    const details = admin.page.getByRole('region', { name: 'Audit events' }).locator('tbody tr td').last();
    await expect(details).toContainText('step: 1');
    await expect(details).not.toContainText('skipped');
    await expect(details).not.toContainText(/:\s*(·|$)/);
    await shot(admin.page, testInfo, `history-filters-${width}`);
  }
});

test('at 390 px every tab shows its whole label, and the page loads without a 404', async ({ actors }, testInfo) => {
  const missing: string[] = [];
  const admin = await actors.open(adminUser(), {
    viewport: { width: 390, height: 844 },
    beforeGoto: async (page) => {
      page.on('response', (response) => {
        if (response.status() === 404) missing.push(response.url());
      });
    },
  });
  const nav = admin.page.getByRole('navigation', { name: 'Main' });
  const tabs = nav.getByRole('button');
  // An admin has every tab: Inbox, New request, My requests, History, Users and Settings (their channels and tokens).
  await expect(tabs).toHaveCount(6);
  // Six tabs don't all fit in 390 px: the strip scrolls, says so with a faded edge, and never cuts a
  // label it shows at the start ("Inbox" once read "ıbox").
  const strip = await nav.evaluate((node) => ({ scrollWidth: node.scrollWidth, clientWidth: node.clientWidth }));
  if (strip.scrollWidth > strip.clientWidth) {
    await expect(nav).toHaveAttribute('data-overflow', 'end');
    await expect(nav).toHaveCSS('mask-image', /linear-gradient/);
  }
  await expect(tabs.first()).toHaveText(/^Inbox/);
  expect(await clipping(tabs.first(), nav), 'the Inbox tab').toEqual([]);
  for (const tab of await tabs.all()) {
    await tab.scrollIntoViewIfNeeded();
    expect(await clipping(tab, nav), `tab "${await tab.innerText()}" once scrolled to`).toEqual([]);
  }
  await shot(admin.page, testInfo, 'tabs-390');

  // The icon the page links is served, and nothing on the way answered 404 (favicon.ico included).
  const icon = await admin.page.locator('link[rel="icon"]').getAttribute('href');
  expect(icon).toBeTruthy();
  const response = await admin.page.request.get(new URL(icon ?? '', hubUrl()).href);
  expect(response.status()).toBe(200);
  expect(response.headers()['content-type']).toBe('image/png');
  expect((await admin.page.request.get(`${hubUrl()}/favicon.ico`)).status()).toBe(200);
  expect(missing).toEqual([]);
});

test('tabs that cannot fit scroll sideways, with a faded edge where more hides', async ({ actors }, testInfo) => {
  const admin = await actors.open(adminUser(), { viewport: { width: 300, height: 700 } });
  const nav = admin.page.getByRole('navigation', { name: 'Main' });
  await expect(nav).toHaveAttribute('data-overflow', 'end');
  await expect(nav).toHaveCSS('mask-image', /linear-gradient/);
  await shot(admin.page, testInfo, 'tabs-300');
  // Choosing the last tab brings it fully into view; now the start hides the others.
  const last = nav.getByRole('button').last();
  await last.click();
  await expect(nav).toHaveAttribute('data-overflow', 'start');
  expect(await clipping(last, nav)).toEqual([]);
  await nav.evaluate((node) => node.scrollTo({ left: 0 }));
  await expect(nav).toHaveAttribute('data-overflow', 'end');
});

test('my requests: the grant fits on one line, the token shows on demand', async ({ actors }, testInfo) => {
  const requester = await createUser('alice', ['requester']);
  const resource = unique('staging-web');
  // Staging deploys are approved by policy: a grant at once.
  await submitRequest(requester, { action: 'deploy', resource, environment: 'staging', reason: 'ship the banner', risk: 'low' });
  const alice = await actors.open(requester);
  await openTab(alice.page, 'My requests');
  const card = myRequest(alice.page, resource);
  const grant = card.getByRole('region', { name: 'Grant' });
  await expect(grant.getByText('active', { exact: true })).toBeVisible();
  await expect(grant.getByTestId('grant-expiry')).toContainText(/expires in \d+m/);
  await expect(grant.getByLabel('Grant token')).toHaveCount(0);
  const box = await grant.boundingBox();
  expect(box?.height, 'the grant is one compact line').toBeLessThanOrEqual(60);
  expect((await card.boundingBox())?.height, 'the card stays short').toBeLessThanOrEqual(260);
  await shot(alice.page, testInfo, 'my-requests-compact');

  const show = grant.getByRole('button', { name: 'Show token' });
  await expect(show).toHaveAttribute('aria-expanded', 'false');
  await show.click();
  await expect(grant.getByRole('button', { name: 'Hide token' })).toHaveAttribute('aria-expanded', 'true');
  await expect(grant.getByLabel('Grant token')).toHaveValue(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  await alice.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hubUrl() });
  await grant.getByRole('button', { name: 'Copy' }).click();
  await expect(grant.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await alice.page.evaluate(() => navigator.clipboard.readText())).toBe(await grant.getByLabel('Grant token').inputValue());
  await grant.getByRole('button', { name: 'Hide token' }).click();
  await expect(grant.getByLabel('Grant token')).toHaveCount(0);
});
