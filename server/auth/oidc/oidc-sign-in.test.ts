import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io } from 'socket.io-client';
import type { AuditEvent, GreenlightRequest, TokenInfo, User } from '../../../protocol/index.js';
import { systemClock, type Clock } from '../../clock.js';
import type { Actor } from '../../domain/actor.js';
import { hashToken } from '../../domain/tokens.js';
import { ADMIN_TOKEN, deployRequest, TestHub } from '../../test-support/hub-fixture.js';
import { freePort } from '../../test-support/hub-process.js';
import { CLIENT_ID, CLIENT_SECRET, TestOidcProvider } from '../../test-support/oidc-provider.js';
import type { OidcSettings } from './config.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
`;

/** Real time, moved forward by the test to make an ID token too old for the hub. */
class ShiftedClock implements Clock {
  shiftMs = 0;
  now = () => new Date(Date.now() + this.shiftMs);
  setTimer = systemClock.setTimer.bind(systemClock);
  clearTimer = systemClock.clearTimer.bind(systemClock);
}

const settingsFor = (issuer: string, caFile: string): OidcSettings => ({
  issuer,
  clientId: CLIENT_ID,
  clientSecret: CLIENT_SECRET,
  name: 'Test IdP',
  scopes: ['openid', 'profile', 'email', 'groups'],
  groupsClaim: 'groups',
  emailClaim: 'email',
  usernameClaim: 'preferred_username',
  roleMapping: { admin: ['gl-admins'], lead: ['sre-leads'], approver: ['sre', 'security'] },
  allowedGroups: ['engineering'],
  caFile,
});

const clock = new ShiftedClock();
let provider: TestOidcProvider;
let hub: TestHub;

type Page = { status: number; location: string | null; text: string };
const get = async (url: string, cookie = ''): Promise<Page> => {
  const response = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  return { status: response.status, location: response.headers.get('location'), text: await response.text() };
};
const login = () => `${hub.url}/auth/oidc/login`;
/** A whole sign-in as `who`, ending at the hub's answer to the callback. */
const signIn = async (who: string): Promise<Page> => {
  const { callback, hubCookie } = await provider.signIn(login(), who);
  return get(callback, hubCookie);
};
const sessionFrom = (page: Page): string => {
  expect(page.status, page.text.slice(0, 300)).toBe(303);
  const token = /^\/#token=(glt_[A-Za-z0-9_-]+)$/.exec(page.location ?? '')?.[1];
  if (!token) throw new Error(`no session token in ${page.location}`);
  return token;
};
const users = async () => (await hub.api<{ users: User[] }>('GET', '/api/v1/users', ADMIN_TOKEN)).body.users;
const auditOf = async (type: string) => (await hub.api<{ events: AuditEvent[] }>('GET', `/api/v1/audit?type=${type}`, ADMIN_TOKEN)).body.events;

beforeAll(async () => {
  const port = await freePort();
  // ID tokens live a minute, so one five minutes old is expired while its sign-in (ten minutes) is not.
  provider = new TestOidcProvider(port, () => [`${hub.url}/auth/oidc/callback`], 60);
  hub = new TestHub('sqlite', { policy: POLICY, clock, oidc: settingsFor(provider.issuer, provider.caFile) });
  await hub.start();
  await provider.start();
  provider.accounts.set('alice-sub', { preferred_username: 'alice', name: 'Alice', email: 'alice@example.com', groups: ['engineering', 'sre', 'random-team'] });
  provider.accounts.set('mallory-sub', { preferred_username: 'mallory', email: 'mallory@example.com', groups: ['contractors'] });
  provider.accounts.set('eve-sub', { preferred_username: 'eve', email: 'eve@example.com', groups: ['engineering'] });
});
afterAll(async () => {
  await hub?.dispose();
  await provider?.dispose();
});

describe('signing in with the identity provider', () => {
  it('creates the user from the ID token: roles by roleMapping, only groups the config or policy knows, and a 12-hour session', async () => {
    expect((await get(`${hub.url}/auth/oidc/info`)).text).toBe(JSON.stringify({ enabled: true, name: 'Test IdP', checksDesktopState: true }));
    const token = sessionFrom(await signIn('alice-sub'));
    const me = await hub.api<Actor>('GET', '/api/v1/me', token);
    expect(me.body).toMatchObject({ name: 'alice', roles: ['requester', 'approver'], groups: ['engineering', 'sre'], tokenKind: 'session' });
    const alice = (await users()).find((user) => user.name === 'alice');
    expect(alice).toMatchObject({ email: 'alice@example.com', status: 'active' });
    const [session] = (await hub.api<{ tokens: TokenInfo[] }>('GET', '/api/v1/tokens', token)).body.tokens;
    expect(session?.kind).toBe('session');
    expect(Date.parse(session?.expiresAt ?? '') - Date.parse(session?.createdAt ?? '')).toBe(12 * 3_600_000);
    expect((await auditOf('user.created')).find((event) => event.data.user === 'alice')?.data).toMatchObject({ source: 'oidc', roles: ['requester', 'approver'], oidcSubject: 'alice-sub' });
    expect((await auditOf('session.started')).some((event) => event.data.user === 'alice')).toBe(true);
  });

  it('a second sign-in after a group change brings the new roles and groups, audited', async () => {
    provider.accounts.set('alice-sub', { preferred_username: 'alice', email: 'alice@example.com', groups: ['engineering', 'sre', 'sre-leads'] });
    const token = sessionFrom(await signIn('alice-sub'));
    const me = await hub.api<Actor>('GET', '/api/v1/me', token);
    expect(me.body).toMatchObject({ roles: ['requester', 'approver', 'lead'], groups: ['engineering', 'sre', 'sre-leads'] });
    const updated = (await auditOf('user.updated')).filter((event) => event.data.user === 'alice');
    expect(updated.at(-1)?.data).toMatchObject({ source: 'oidc', changes: { roles: { to: ['requester', 'approver', 'lead'] } } });
  });

  it('an admin changing the roles of someone who signs in this way is warned that the next sign-in sets them again', async () => {
    const changed = await hub.api<User>('PATCH', '/api/v1/users/alice', ADMIN_TOKEN, { roles: ['requester', 'approver', 'lead', 'admin'] });
    expect(changed.status).toBe(200);
    expect(changed.body.warnings?.[0]).toContain('lasts only until their next sign-in');
    const token = sessionFrom(await signIn('alice-sub'));
    expect((await hub.api<Actor>('GET', '/api/v1/me', token)).body.roles).toEqual(['requester', 'approver', 'lead']);
    const handMade = await hub.createUser('harry', ['requester']);
    const plain = await hub.api<User>('PATCH', '/api/v1/users/harry', ADMIN_TOKEN, { roles: ['approver'] });
    expect(plain.body.warnings).toBeUndefined();
    expect((await hub.api('GET', '/api/v1/me', handMade.token)).status).toBe(200);
  });

  it('a first sign-in that takes over a hand-made user records the subject it links; signing in again links nothing new', async () => {
    const nina = await hub.createUser('nina', ['requester']);
    provider.accounts.set('nina-sub', { preferred_username: 'nina', email: 'nina@example.com', groups: ['engineering'] });
    sessionFrom(await signIn('nina-sub'));
    const linked = (await auditOf('user.updated')).filter((event) => event.data.user === 'nina');
    expect(linked).toHaveLength(1);
    expect(linked[0]?.data.changes).toMatchObject({ oidcSubject: { from: null, to: 'nina-sub' } });
    sessionFrom(await signIn('nina-sub'));
    expect((await auditOf('user.updated')).filter((event) => event.data.user === 'nina')).toHaveLength(1);
    expect((await hub.api('GET', '/api/v1/me', nina.token)).status).toBe(200);
  });

  it('someone outside allowedGroups gets a 403 page naming why, and no account', async () => {
    const before = (await users()).length;
    const page = await signIn('mallory-sub');
    expect(page.status).toBe(403);
    expect(page.text).toContain('not in any group allowed to use Greenlight (engineering)');
    expect(await users()).toHaveLength(before);
  });

  it('an identity outside allowedGroups never disables a hand-made or service user who merely shares its name', async () => {
    const mallory = await hub.createUser('mallory', ['requester']);
    expect((await hub.api('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'eve-bot', roles: ['requester'], service: true })).status).toBe(201);
    provider.accounts.set('eve-bot-sub', { preferred_username: 'eve-bot', email: 'eve-bot@example.com', groups: ['contractors'] });
    for (const who of ['mallory-sub', 'eve-bot-sub']) expect((await signIn(who)).status).toBe(403);
    expect((await users()).filter((user) => user.name === 'mallory' || user.name === 'eve-bot').map((user) => user.status)).toEqual(['active', 'active']);
    expect((await hub.api('GET', '/api/v1/me', mallory.token)).status).toBe(200);
  });

  it('a sign-in that drops the approver role ends the delegations to and from that person, audited with why', async () => {
    provider.accounts.set('olga-sub', { preferred_username: 'olga', email: 'olga@example.com', groups: ['engineering', 'security'] });
    const olga = sessionFrom(await signIn('olga-sub'));
    await hub.createUser('dana', ['approver'], ['sre']);
    const made = await hub.api<{ id: string }>('POST', '/api/v1/delegations', olga, { to: 'dana', endsAt: new Date(clock.now().getTime() + 86_400_000).toISOString(), reason: 'away' });
    expect(made.status).toBe(201);
    provider.accounts.set('olga-sub', { preferred_username: 'olga', email: 'olga@example.com', groups: ['engineering'] });
    const again = sessionFrom(await signIn('olga-sub'));
    expect((await hub.api<Actor>('GET', '/api/v1/me', again)).body.roles).toEqual(['requester']);
    const listed = await hub.api<{ delegations: { id: string; active: boolean; endedBy: string | null }[] }>('GET', '/api/v1/delegations', ADMIN_TOKEN);
    expect(listed.body.delegations.find((delegation) => delegation.id === made.body.id)).toMatchObject({ active: false, endedBy: 'greenlight' });
    expect((await auditOf('delegation.ended')).find((event) => event.data.delegation === made.body.id)?.data).toMatchObject({ why: 'olga no longer decides anything' });
  });

  it('a first sign-in under a name that differs from an existing user only in case is refused, and creates nobody', async () => {
    provider.accounts.set('other-olga-sub', { preferred_username: 'OLGA', email: 'other.olga@example.com', groups: ['engineering'] });
    const before = (await users()).length;
    const page = await signIn('other-olga-sub');
    expect(page.status).toBe(403);
    expect(page.text).toContain('The name OLGA already belongs to another account (olga) here, whatever its case.');
    expect(await users()).toHaveLength(before);
  });

  it('losing the allowed group disables the user at the next sign-in, closes their sockets, and is audited', async () => {
    const token = sessionFrom(await signIn('alice-sub'));
    const socket = io(hub.url, { auth: { token }, forceNew: true, transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const closed = new Promise<void>((resolve) => socket.once('disconnect', () => resolve()));
    await hub.createUser('sam', ['approver'], ['sre']);
    const waiting = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', token, deployRequest({ reason: 'before losing the group' }));
    expect(waiting.body.status).toBe('pending');
    provider.accounts.set('alice-sub', { preferred_username: 'alice', email: 'alice@example.com', groups: ['sre'] });
    const page = await signIn('alice-sub');
    expect(page.status).toBe(403);
    expect(page.text).toContain('has been disabled');
    await closed;
    socket.close();
    expect((await hub.api('GET', '/api/v1/me', token)).status).toBe(401);
    expect((await users()).find((user) => user.name === 'alice')?.status).toBe('disabled');
    expect((await auditOf('user.disabled')).at(-1)?.data).toMatchObject({ user: 'alice', reason: expect.stringContaining('allowed groups') });
    // What she asked for while she could is cancelled with her account, not left for someone to approve.
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${waiting.body.id}`, ADMIN_TOKEN)).body.status).toBe('cancelled');
    // Back in the group, the account stays disabled until an admin enables it.
    provider.accounts.set('alice-sub', { preferred_username: 'alice', email: 'alice@example.com', groups: ['engineering', 'sre'] });
    expect((await signIn('alice-sub')).text).toContain('disabled. Ask a Greenlight admin');
    expect((await hub.api('POST', '/api/v1/users/alice/enable', ADMIN_TOKEN)).status).toBe(200);
    sessionFrom(await signIn('alice-sub'));
  });
});

describe('desktop sign-ins', () => {
  const desktopLogin = (state?: string) => {
    const url = new URL(login());
    url.searchParams.set('desktop', 'http://127.0.0.1:49153/callback');
    url.searchParams.set('challenge', createHash('sha256').update('b'.repeat(43)).digest('base64url'));
    if (state !== undefined) url.searchParams.set('state', state);
    return url.href;
  };

  it('hands the desktop app back its own state on its loopback address, and none to an app from before the state', async () => {
    const state = 'S'.repeat(43);
    for (const [sent, expected] of [[state, state], [undefined, null]] as const) {
      const { callback, hubCookie } = await provider.signIn(desktopLogin(sent), 'eve-sub');
      const page = await get(callback, hubCookie);
      expect(page.status, page.text.slice(0, 300)).toBe(303);
      const back = new URL(page.location ?? '');
      expect(back.origin + back.pathname).toBe('http://127.0.0.1:49153/callback');
      expect(back.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(back.searchParams.get('state')).toBe(expected);
      // The app, finishing as it would: the hand-off is used up.
      const redeemed = await hub.api<{ user: string }>('POST', '/auth/oidc/desktop/token', null, { code: back.searchParams.get('code'), verifier: 'b'.repeat(43) });
      expect(redeemed).toMatchObject({ status: 200, body: { user: 'eve' } });
    }
  });

  it('refuses a state that is malformed or comes without a loopback address', async () => {
    for (const url of [desktopLogin('not a state!'), `${login()}?state=${'S'.repeat(43)}`]) {
      const page = await get(url);
      expect(page.status).toBe(400);
      expect(page.text).toContain('Start again from the app.');
    }
  });
});

describe('a sign-in that must not work says why and creates nothing', () => {
  const noNewUsers = async (work: () => Promise<void>) => {
    const before = (await users()).length;
    await work();
    expect(await users()).toHaveLength(before);
  };
  const refused = (page: Page, status: number, words: string) => {
    expect(page.status, page.text.slice(0, 300)).toBe(status);
    expect(page.text).toContain(words);
    expect(page.location).toBeNull();
  };

  it('a wrong state, or a callback this browser did not start', async () => {
    await noNewUsers(async () => {
      const { callback, hubCookie } = await provider.signIn(login(), 'eve-sub');
      const wrong = new URL(callback);
      wrong.searchParams.set('state', 'not-the-state');
      refused(await get(wrong.href, hubCookie), 400, 'does not match');
      const other = await provider.signIn(login(), 'eve-sub');
      refused(await get(other.callback, ''), 400, 'does not match');
    });
  });

  it('a desktop sign-in someone else started, finished in a browser that did not start it: no hand-off to their app', async () => {
    // The attacker's app listens on its own loopback port with its own PKCE verifier, and sends the
    // provider's URL to someone signed in there; that person's browser brings back no state cookie.
    const desktopLogin = new URL(login());
    desktopLogin.searchParams.set('desktop', 'http://127.0.0.1:49152/callback');
    desktopLogin.searchParams.set('challenge', createHash('sha256').update('a'.repeat(43)).digest('base64url'));
    const handoffs = async () => (await hub.hub.ctx.store.db.selectFrom('oidc_handoffs').select('code_hash').execute()).length;
    const before = await handoffs();
    await noNewUsers(async () => {
      const { callback } = await provider.signIn(desktopLogin.href, 'eve-sub');
      refused(await get(callback, ''), 400, 'does not match');
    });
    expect(await handoffs()).toBe(before);
  });

  it('a replayed callback, and a replayed code under a fresh state', async () => {
    const first = await provider.signIn(login(), 'eve-sub');
    sessionFrom(await get(first.callback, first.hubCookie));
    refused(await get(first.callback, first.hubCookie), 400, 'does not match');
    await noNewUsers(async () => {
      const fresh = await provider.signIn(login(), 'eve-sub');
      const replayed = new URL(fresh.callback);
      replayed.searchParams.set('code', new URL(first.callback).searchParams.get('code') ?? '');
      refused(await get(replayed.href, fresh.hubCookie), 400, 'did not accept the sign-in code');
    });
  });

  it('an ID token whose nonce is not this sign-in’s', async () => {
    const { callback, hubCookie } = await provider.signIn(login(), 'eve-sub');
    const state = new URL(callback).searchParams.get('state') ?? '';
    // What another sign-in's ID token would carry: the row's nonce no longer matches the provider's.
    await hub.hub.ctx.store.db.updateTable('oidc_logins').set({ nonce: 'a-nonce-of-another-sign-in' }).where('state', '=', state).execute();
    refused(await get(callback, hubCookie), 400, 'nonce mismatch');
  });

  it('an expired ID token', async () => {
    const { callback, hubCookie } = await provider.signIn(login(), 'eve-sub');
    clock.shiftMs = 5 * 60_000;
    try {
      refused(await get(callback, hubCookie), 400, 'expired');
    } finally {
      clock.shiftMs = 0;
    }
  });

  it('an identity provider that is down: a clear page, nothing created', async () => {
    const nobody = await freePort();
    const offline = new TestHub('sqlite', { policy: POLICY, oidc: settingsFor(`https://127.0.0.1:${nobody}`, provider.caFile) });
    await offline.start();
    try {
      const page = await get(`${offline.url}/auth/oidc/login`);
      expect(page.status).toBe(502);
      expect(page.text).toContain(`The identity provider at https://127.0.0.1:${nobody} could not be reached`);
      expect((await offline.api<{ users: User[] }>('GET', '/api/v1/users', ADMIN_TOKEN)).body.users.map((user) => user.name)).toEqual(['admin']);
    } finally {
      await offline.dispose();
    }
  });
});

describe('desktop hand-offs the app never came back for', () => {
  const verifier = 'v'.repeat(43);
  const handoff = async (code: string, expiresInMs: number) => {
    const admin = (await users()).find((user) => user.name === 'admin');
    if (!admin) throw new Error('no admin user');
    await hub.hub.ctx.store.db
      .insertInto('oidc_handoffs')
      .values({ code_hash: hashToken(code), user_id: admin.id, challenge: createHash('sha256').update(verifier).digest('base64url'), expires_at: new Date(clock.now().getTime() + expiresInMs).toISOString() })
      .execute();
  };
  const handoffs = async () => (await hub.hub.ctx.store.db.selectFrom('oidc_handoffs').select('code_hash').execute()).map((row) => row.code_hash);
  const redeem = (code: string) => hub.api<{ user: string }>('POST', '/auth/oidc/desktop/token', null, { code, verifier });

  it('an expired one is still refused when redeemed', async () => {
    await handoff('expired-code-tried-late', -1000);
    expect((await redeem('expired-code-tried-late')).status).toBe(401);
  });

  it('are pruned once expired when the next sign-in starts; a fresh one stays and still signs the app in', async () => {
    await handoff('expired-code-never-fetched', -1000);
    await handoff('fresh-code-for-the-app', 60_000);
    expect(await handoffs()).toEqual(expect.arrayContaining([hashToken('expired-code-never-fetched'), hashToken('fresh-code-for-the-app')]));
    expect((await get(login())).status).toBe(302);
    expect(await handoffs()).toEqual([hashToken('fresh-code-for-the-app')]);
    expect(await redeem('fresh-code-for-the-app')).toMatchObject({ status: 200, body: { user: 'admin' } });
  });
});

// Single sign-on sets roles from the identity provider, but it must never be the way a hub loses
// its last admin, nor the way someone takes over an admin account by sharing its name.
describe('single sign-on never costs the hub its admins', () => {
  it('an identity named like a hand-made admin, and not mapped to admin, does not take that account over', async () => {
    provider.accounts.set('imposter-sub', { preferred_username: 'admin', email: 'imposter@example.com', groups: ['engineering'] });
    const page = await signIn('imposter-sub');
    expect(page.status).toBe(403);
    expect(page.text).toContain('is an admin made by hand');
    const me = await hub.api<Actor>('GET', '/api/v1/me', ADMIN_TOKEN);
    expect(me.body.roles).toContain('admin');
    expect((await users()).find((user) => user.name === 'admin')?.email).toBeNull();
  });

  it('refuses an identity whose name the audit log uses for the hub itself', async () => {
    provider.accounts.set('hub-sub', { preferred_username: 'greenlight', email: 'gl@example.com', groups: ['engineering', 'gl-admins'] });
    const page = await signIn('hub-sub');
    expect(page.status).toBeGreaterThanOrEqual(400);
    expect(page.text).toContain('reserved for the hub');
    expect((await users()).some((user) => user.name === 'greenlight')).toBe(false);
  });

  it('the last active admin keeps the role when the provider drops it, and is refused but not disabled outside allowedGroups', async () => {
    provider.accounts.set('root-sub', { preferred_username: 'root', email: 'root@example.com', groups: ['engineering', 'gl-admins'] });
    const root = sessionFrom(await signIn('root-sub'));
    expect((await hub.api('POST', '/api/v1/users/admin/disable', root)).status).toBe(200);
    try {
      provider.accounts.set('root-sub', { preferred_username: 'root', email: 'root@example.com', groups: ['engineering'] });
      const again = sessionFrom(await signIn('root-sub'));
      expect((await hub.api<Actor>('GET', '/api/v1/me', again)).body.roles).toContain('admin');
      const kept = (await hub.api<{ events: AuditEvent[] }>('GET', '/api/v1/audit?type=user.updated', again)).body.events.find((event) => event.outcome === 'kept');
      expect(kept?.data).toMatchObject({ user: 'root', source: 'oidc', reason: expect.stringContaining('last active admin') });

      provider.accounts.set('root-sub', { preferred_username: 'root', email: 'root@example.com', groups: ['contractors'] });
      expect((await signIn('root-sub')).status).toBe(403);
      const rootUser = (await hub.api<{ users: User[] }>('GET', '/api/v1/users', again)).body.users.find((user) => user.name === 'root');
      expect(rootUser?.status).toBe('active');
    } finally {
      expect((await hub.api('POST', '/api/v1/users/admin/enable', root)).status).toBe(200);
    }
  });
});
