import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { freePort, HubDataDir, HubProcess } from '../server/test-support/hub-process.js';
import { CLIENT_ID, CLIENT_SECRET, TestOidcProvider } from '../server/test-support/oidc-provider.js';
import { TEST_POLICY } from './support/policy.js';

/**
 * Single sign-on from the web console through a real OpenID Provider's own login page. This spec
 * runs its own hub (a `greenlight hub` process with an `oidc:` config section) and provider.
 */
let provider: TestOidcProvider;
let hub: HubProcess;
let data: HubDataDir;
let hubUrl = '';

test.beforeAll(async () => {
  const hubPort = await freePort();
  hubUrl = `http://127.0.0.1:${hubPort}`;
  provider = new TestOidcProvider(await freePort(), () => [`${hubUrl}/auth/oidc/callback`]);
  await provider.start();
  provider.accounts.set('alice-sub', { preferred_username: 'alice', name: 'Alice', email: 'alice@example.com', groups: ['engineering', 'sre'] });
  provider.accounts.set('mallory-sub', { preferred_username: 'mallory', groups: ['contractors'] });
  data = new HubDataDir(TEST_POLICY);
  const config = path.join(data.path, 'hub.yaml');
  writeFileSync(
    config,
    `oidc:
  issuer: ${provider.issuer}
  clientId: ${CLIENT_ID}
  clientSecret: env:TEST_OIDC_CLIENT_SECRET
  name: Test IdP
  scopes: [openid, profile, email, groups]
  roleMapping: { admin: [gl-admins], lead: [sre-leads], approver: [sre, security] }
  allowedGroups: [engineering]
  caFile: ${provider.caFile}
`,
  );
  hub = new HubProcess(['--host', '127.0.0.1', ...data.args, '--config', config], { GREENLIGHT_ADMIN_TOKEN: 'glt_e2e-oidc-admin-token-0123456789', TEST_OIDC_CLIENT_SECRET: CLIENT_SECRET }, { port: hubPort });
  await hub.start();
});

test.afterAll(async () => {
  await hub?.stop();
  await provider?.dispose();
  data?.remove();
});

// The provider's certificate is a throwaway one only the hub was told to trust (oidc.caFile).
test.use({ ignoreHTTPSErrors: true });

async function throughProviderLogin(page: import('@playwright/test').Page, login: string): Promise<void> {
  await page.goto(hubUrl);
  await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
  await expect(page).toHaveURL(new RegExp(`^${provider.issuer}/interaction/`));
  await page.getByPlaceholder('Enter any login').fill(login);
  await page.getByPlaceholder('and password').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

test('signs in from the console through the provider’s login page, with the roles its groups map to', async ({ page }) => {
  await throughProviderLogin(page, 'alice-sub');
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
  // The session token left the address bar; it is kept as a pasted token is.
  expect(new URL(page.url()).hash).toBe('');
  await expect(page.locator('header .user')).toHaveText('alice');
  const token = await page.evaluate(() => window.sessionStorage.getItem('greenlight.token'));
  const me = await fetch(`${hubUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  expect(await me.json()).toMatchObject({ name: 'alice', roles: ['requester', 'approver'], groups: ['engineering', 'sre'], tokenKind: 'session' });
});

test('Settings → Tokens: a pipeline token is made with its scopes, shown once, listed, and revoked', async ({ page }) => {
  await throughProviderLogin(page, 'alice-sub');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
  const panel = page.getByRole('region', { name: 'Tokens' });
  // Every sign-in is a session of its own, listed with the rest.
  await expect(panel.getByRole('row', { name: /console sign-in session/ }).first()).toBeVisible();
  await panel.getByLabel('Name').fill('ci');
  await panel.getByRole('button', { name: 'Create token' }).click();
  const shown = panel.getByLabel('New token ci');
  await expect(shown).toHaveValue(/^glt_/);
  const token = await shown.inputValue();
  const me = await fetch(`${hubUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  expect(await me.json()).toMatchObject({ name: 'alice', tokenKind: 'api', scopes: ['requests:create', 'requests:read'] });
  const row = panel.getByRole('row', { name: /^ci api/ });
  await expect(row).toContainText('requests:create requests:read');
  await row.getByRole('button', { name: 'Revoke ci' }).click();
  await row.getByRole('button', { name: 'Yes, revoke' }).click();
  await expect(row).toHaveCount(0);
  expect((await fetch(`${hubUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
});

test('someone outside the allowed groups gets a page that says why', async ({ page }) => {
  await throughProviderLogin(page, 'mallory-sub');
  await expect(page.getByRole('heading', { name: 'You may not sign in to Greenlight' })).toBeVisible();
  await expect(page.getByRole('alert')).toContainText('not in any group allowed to use Greenlight (engineering)');
});
