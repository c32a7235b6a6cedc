/**
 * `npm run screenshots`: the console as people see it, at 1280 and 390 px, written to
 * docs/screenshots/. Two weeks of history are recorded first by a hub whose clock this script
 * moves (so the History report has real spreads of decision times), then a real hub process
 * (`spawnHub`) opens that data directory and live requests arrive in front of the camera.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from '@playwright/test';
import type { GreenlightRequest, NewRequest } from '../protocol/index.js';
import { ManualClock } from '../server/clock.js';
import { startHub } from '../server/hub.js';
import { spawnHub } from '../server/test-support/hub-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'docs', 'screenshots');
const ADMIN_TOKEN = `glt_screenshots_${'0'.repeat(32)}`;
const MINUTE = 60_000;
const WIDTHS = [1280, 390] as const;
const HEIGHT: Record<(typeof WIDTHS)[number], number> = { 1280: 800, 390: 844 };

const POLICY = `
rules:
  - name: prod-deploys
    match: { action: deploy, environment: production }
    approvers: [sre]
    escalation:
      - { after: 5m, notify: [sre-leads] }
      - { after: 20m, notify: [managers] }
    expireAfter: 1h
    grantTtl: 15m
    claimHolds: 10m
  - name: database-access
    match: { action: db-open }
    approvers: [dba, sre]
    expireAfter: 2h
    grantTtl: 30m
  - name: config-changes
    match: { action: config }
    approvers: [platform]
    escalation:
      - { after: 15m, notify: [sre-leads] }
    expireAfter: 4h
    grantTtl: 15m
  - name: staging
    match: { action: deploy, environment: staging }
    autoApprove: true
`;

type Token = string;
interface People { alice: Token; priya: Token; bob: Token; sam: Token; lena: Token; admin: Token }

async function api<T>(url: string, token: Token, method: string, route: string, body?: unknown): Promise<T> {
  const response = await fetch(url + route, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

/** The same "random" history on every run, so the pictures only change when the app does. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

const DIFF = `--- a/deploy/payments-api.yaml
+++ b/deploy/payments-api.yaml
@@ -12,7 +12,7 @@ spec:
   replicas: 6
   template:
     spec:
-      image: registry.internal/payments-api:2.4.0
+      image: registry.internal/payments-api:2.4.1
       env:
-        - { name: RETRY_BUDGET, value: "3" }
+        - { name: RETRY_BUDGET, value: "5" }
`;

const deploy = (resource: string, reason: string, risk: NewRequest['risk'], environment = 'production'): NewRequest => ({
  action: 'deploy',
  resource,
  environment,
  reason,
  risk,
  context: {
    summary: `Roll out ${resource} 2.4.1: retries for the card network timeouts seen since Monday.`,
    diff: DIFF,
    logs: 'build 812 passed (4m 12s)\ncanary eu-west-1: error rate 0.02% (baseline 0.03%)\np99 latency 182 ms (baseline 190 ms)',
    links: [
      { title: 'INC-4412', url: 'https://tickets.example.com/INC-4412' },
      { title: 'PR #1289', url: 'https://git.example.com/payments/pull/1289' },
    ],
    fields: { commit: '3f9c2a1', pipeline: 'payments/main #812', 'change window': 'until 18:00 UTC' },
  },
});
const dbOpen = (resource: string, reason: string): NewRequest => ({ action: 'db-open', resource, environment: 'production', reason, risk: 'medium', context: { summary: 'Read-only session for a reconciliation query.' } });
const config = (resource: string, reason: string): NewRequest => ({ action: 'config', resource, environment: 'production', reason, risk: 'low', context: { diff: `--- a/flags.yaml\n+++ b/flags.yaml\n@@ -1 +1 @@\n-${resource}: false\n+${resource}: true\n` } });

/** Two weeks of decisions with a hub whose clock the script moves, ending a few minutes before now. */
async function recordHistory(dataDir: string, policyFile: string): Promise<People> {
  const end = Date.now() - 8 * MINUTE;
  const clock = new ManualClock(new Date(end - 14 * 24 * 60 * MINUTE));
  const hub = await startHub({ port: 0, host: '127.0.0.1', dataDir, policyFile, adminToken: ADMIN_TOKEN, logLevel: 'silent', consoleDir: null, print: () => undefined, clock });
  const call = <T>(token: Token, method: string, route: string, body?: unknown) => api<T>(hub.url, token, method, route, body);
  const user = async (name: string, roles: string[], groups: string[]) => (await call<{ token: string }>(ADMIN_TOKEN, 'POST', '/api/v1/users', { name, roles, groups })).token;
  const people: People = {
    alice: await user('alice', ['requester'], ['payments']),
    priya: await user('priya', ['requester'], ['data']),
    bob: await user('bob', ['approver'], ['sre', 'platform']),
    sam: await user('sam', ['approver'], ['sre', 'dba']),
    lena: await user('lena', ['lead'], ['sre-leads']),
    admin: ADMIN_TOKEN,
  };
  await user('max', ['lead'], ['managers']);
  const advance = async (ms: number) => {
    clock.advance(ms);
    await hub.scheduler.runNow();
  };
  const random = seeded(20_261_203);
  const services = ['payments-api', 'checkout-web', 'ledger-worker', 'search-api', 'notifications'];
  // Mostly quick decisions, a tail of slow ones: what a real on-call rota looks like.
  const minutesToDecide = () => (random() < 0.8 ? 0.5 + random() * 4 : 5 + random() * 25);
  while (clock.now().getTime() < end - 3 * 60 * MINUTE) {
    const kind = random();
    const service = services[Math.floor(random() * services.length)] ?? 'payments-api';
    const requester = random() < 0.6 ? people.alice : people.priya;
    const input = kind < 0.45 ? deploy(service, 'weekly release', random() < 0.3 ? 'high' : 'medium') : kind < 0.65 ? dbOpen(`${service}-db`, 'reconcile yesterday’s settlements') : kind < 0.85 ? config(`${service.replace(/-/g, '_')}_v2`, 'turn on the new path for 10% of traffic') : deploy(service, 'staging check', 'low', 'staging');
    const request = await call<GreenlightRequest>(requester, 'POST', '/api/v1/requests', input);
    if (request.status === 'pending') {
      if (random() < 0.06) {
        await advance(4.5 * 60 * MINUTE); // nobody answered: it expires
      } else {
        await advance(minutesToDecide() * MINUTE);
        // sam answers for databases, bob for configuration, either of them for deploys.
        const approver = input.action === 'db-open' ? people.sam : input.action === 'config' ? people.bob : random() < 0.5 ? people.sam : people.bob;
        const decision = random() < 0.9 ? 'approve' : 'deny';
        await call(approver, 'POST', `/api/v1/requests/${request.id}/decisions`, { decision, comment: decision === 'approve' ? 'looks good' : 'not during the freeze, please' });
      }
    }
    await advance((1 + random() * 7) * 60 * MINUTE);
  }
  // One waits past its first escalation step as the real hub takes over.
  clock.set(new Date(end - MINUTE));
  await call(people.priya, 'POST', '/api/v1/requests', { ...deploy('ledger-worker', 'drain the stuck settlement queue', 'high'), context: { summary: 'Restart with the queue fix from PR #1301.' } });
  await advance(6 * MINUTE);
  await hub.close();
  return people;
}

/** Requests that arrive while the camera runs: the inbox, a claim, a grant, a denial. */
async function liveRequests(url: string, people: People): Promise<void> {
  const call = <T>(token: Token, method: string, route: string, body?: unknown) => api<T>(url, token, method, route, body);
  const submit = (token: Token, input: NewRequest) => call<GreenlightRequest>(token, 'POST', '/api/v1/requests', input);
  await submit(people.alice, deploy('payments-api', 'hotfix for INC-4412: card network timeouts', 'high'));
  const claimed = await submit(people.priya, dbOpen('ledger-db', 'reconcile the 2 December settlements'));
  await call(people.sam, 'POST', `/api/v1/requests/${claimed.id}/claim`, {});
  await submit(people.alice, config('checkout_v2', 'turn on the new checkout for 10% of EU traffic'));
  const approved = await submit(people.alice, deploy('checkout-web', 'ship the address autocomplete', 'medium'));
  await call(people.bob, 'POST', `/api/v1/requests/${approved.id}/decisions`, { decision: 'approve', comment: 'canary looks clean' });
  const denied = await submit(people.alice, config('legacy_tax_rules', 'remove the 2019 tax rules'));
  await call(people.bob, 'POST', `/api/v1/requests/${denied.id}/decisions`, { decision: 'deny', comment: 'finance needs them until the audit closes' });
  await submit(people.alice, deploy('checkout-web', 'preview the new banner', 'low', 'staging'));
}

async function openAs(browser: Browser, url: string, token: Token, width: number): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: HEIGHT[width as 1280 | 390] }, deviceScaleFactor: 1, reducedMotion: 'reduce', colorScheme: 'light' });
  const page = await context.newPage();
  await page.goto(url);
  await page.getByLabel('Hub URL').fill(url);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  return page;
}

const tab = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name, exact: false });

async function save(page: Page, name: string, width: number): Promise<void> {
  const file = path.join(OUT, `${name}-${width}.png`);
  await page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
  process.stdout.write(`wrote ${path.relative(ROOT, file)}\n`);
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'greenlight-screenshots-'));
  const policyFile = path.join(dataDir, 'policy.yaml');
  writeFileSync(policyFile, POLICY);
  let hub: Awaited<ReturnType<typeof spawnHub>> | null = null;
  let browser: Browser | null = null;
  try {
    process.stdout.write('recording two weeks of history…\n');
    const people = await recordHistory(dataDir, policyFile);
    // spawnHub makes a data directory of its own; the later --data-dir (commander keeps the last) points it at the recorded one.
    hub = await spawnHub({ adminToken: ADMIN_TOKEN, args: ['--data-dir', dataDir, '--policy', policyFile] });
    await liveRequests(hub.url, people);
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'] });

    for (const width of WIDTHS) {
      const bob = await openAs(browser, hub.url, people.bob, width);
      const rows = bob.getByRole('option');
      await rows.nth(3).waitFor();
      await save(bob, 'inbox', width);
      await rows.filter({ hasText: 'payments-api' }).first().click();
      await bob.getByRole('region', { name: 'Request detail' }).locator('tr.diff-add').first().waitFor();
      await save(bob, 'detail', width);
      await bob.context().close();

      const alice = await openAs(browser, hub.url, people.alice, width);
      await tab(alice, 'My requests').click();
      await alice.locator('article.mine [data-grant-status="active"]').first().waitFor();
      await save(alice, 'my-requests', width);
      await alice.context().close();

      const admin = await openAs(browser, hub.url, people.admin, width);
      await tab(admin, 'History').click();
      await admin.getByRole('img', { name: /Time to decision per rule/ }).waitFor();
      await admin.getByRole('region', { name: 'Audit events' }).locator('tbody tr').first().waitFor();
      await save(admin, 'history', width);
      const users = tab(admin, 'Users');
      if ((await users.count()) > 0) {
        await users.click();
        await admin.getByRole('heading', { name: 'Users' }).first().waitFor();
        await save(admin, 'users', width);
      } else if (width === WIDTHS[0]) {
        process.stdout.write('skipped users: this build has no Users tab\n');
      }
      await admin.context().close();
    }
  } finally {
    await browser?.close();
    await hub?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
