import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import type { StateFinding } from './domain/state-check/compare.js';
import type { UsersTable } from './store/schema.js';
import { audit, inTransaction } from './domain/context.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { freePort } from './test-support/hub-process.js';
import { CLIENT_ID, CLIENT_SECRET, TestOidcProvider } from './test-support/oidc-provider.js';
import { postgresAvailability } from './test-support/postgres.js';
import { rawDatabase } from './test-support/raw-database.js';

const POLICY = `
rules:
  - { name: prod, match: { action: deploy }, approvers: [sre] }
`;

type Verify = { ok: boolean; kind?: string; findings?: StateFinding[] };
const pg = await postgresAvailability();

// Approvers are chosen by role and group, and a disabled account is shut out: a users row changed by
// hand (an admin role, a place in the approving group, an account let back in) gives power no event gave.
describe.each<DatabaseKind>(['sqlite', 'postgres'])('audit verify holds users against their events, on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  let provider: TestOidcProvider;
  let hub: TestHub;
  let alice: TestUser, bob: TestUser;
  const db = () => hub.hub.ctx.store.db;
  const verify = async () => (await hub.api<Verify>('GET', '/api/v1/audit/verify', ADMIN_TOKEN)).body;
  const userFindings = (found: Verify) => (found.findings ?? []).filter((finding) => finding.table === 'users');
  const idOf = async (name: string) => (await db().selectFrom('users').select('id').where('name', '=', name).executeTakeFirstOrThrow()).id;
  /** A sign-in through the identity provider's pages, as a browser makes it: the hub's answer's status, and the session token it gave. */
  const signInAs = async (sub: string, claims: { preferred_username: string; email?: string; groups: string[] }) => {
    provider.accounts.set(sub, claims);
    const { callback, hubCookie } = await provider.signIn(`${hub.url}/auth/oidc/login`, sub);
    const answer = await fetch(callback, { redirect: 'manual', headers: { cookie: hubCookie } });
    return { status: answer.status, token: /#token=(glt_[A-Za-z0-9_-]+)$/.exec(answer.headers.get('location') ?? '')?.[1] };
  };
  const signIn = async (...args: Parameters<typeof signInAs>) => (await signInAs(...args)).status;
  const admin = async (method: string, route: string, body?: unknown) => {
    const answer = await hub.api(method, route, ADMIN_TOKEN, body);
    expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
  };
  /** Changes one users row, runs verify, and puts the row back. */
  const withRow = async (name: string, changes: Partial<UsersTable>) => {
    const original = await db().selectFrom('users').selectAll().where('name', '=', name).executeTakeFirstOrThrow();
    await db().updateTable('users').set(changes).where('name', '=', name).execute();
    try {
      return userFindings(await verify());
    } finally {
      await db().updateTable('users').set(original).where('name', '=', name).execute();
    }
  };
  const differs = async (user: string, field: string, state: string | null, log: string | null, event: string) =>
    expect.objectContaining({
      reason: 'state_disagrees',
      table: 'users',
      requestId: null,
      user,
      userId: await idOf(user),
      field,
      state,
      log,
      problem: `user ${user} (${await idOf(user)}): ${field} is ${state === null ? 'nothing' : `"${state}"`} but its audit events say ${log === null ? 'nothing' : `"${log}"`} (${event})`,
    });

  beforeAll(async () => {
    provider = new TestOidcProvider(await freePort(), () => [`${hub.url}/auth/oidc/callback`]);
    hub = new TestHub(kind, {
      policy: POLICY,
      // One port across a restart: the provider knows the hub's callback address from its start.
      port: await freePort(),
      oidc: {
        issuer: provider.issuer,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        name: 'Test IdP',
        scopes: ['openid', 'profile', 'email', 'groups'],
        groupsClaim: 'groups',
        emailClaim: 'email',
        usernameClaim: 'preferred_username',
        roleMapping: { admin: ['gl-admins'], lead: ['sre-leads'], approver: ['sre'] },
        allowedGroups: ['engineering'],
        caFile: provider.caFile,
      },
    });
    await hub.start();
    await provider.start();
  });
  afterAll(async () => {
    await hub?.dispose();
    await provider?.dispose();
  });

  it('finds nothing after sign-ins, group and role changes, links, a takeover, and disables and enables by admins and by the identity provider', async () => {
    bob = await hub.createUser('bob', ['approver'], ['sre'], { email: 'bob@example.com' });
    await hub.createUser('carol', ['approver'], ['sre']);
    await hub.createUser('dave', ['approver'], ['sre']);
    await hub.createUser('mallory', ['requester']);
    await hub.createUser('harry', ['requester']);
    await admin('POST', '/api/v1/users', { name: 'deploy-bot', roles: ['requester'], service: true });
    await admin('POST', '/api/v1/users', { name: 'erin', roles: ['approver'], groups: ['sre'], slackUserId: 'U0ERIN' });

    // alice signs in, then her groups, her roles and her email change at the provider.
    expect(await signIn('alice-sub', { preferred_username: 'alice', email: 'alice@example.com', groups: ['engineering'] })).toBe(303);
    expect(await signIn('alice-sub', { preferred_username: 'alice', email: 'alice@example.com', groups: ['engineering', 'sre'] })).toBe(303);
    expect(await signIn('alice-sub', { preferred_username: 'alice', email: 'alice@example.com', groups: ['engineering', 'sre', 'sre-leads'] })).toBe(303);
    expect(await signIn('alice-sub', { preferred_username: 'alice', email: 'alice.b@example.com', groups: ['engineering', 'sre', 'sre-leads'] })).toBe(303);
    const session = await signInAs('alice-sub', { preferred_username: 'alice', groups: ['engineering', 'sre', 'sre-leads'] });
    alice = { name: 'alice', token: session.token ?? '' };
    // An admin's change to alice lasts until her next sign-in.
    await admin('PATCH', '/api/v1/users/alice', { roles: ['requester', 'approver', 'lead', 'admin'] });
    expect(await signIn('alice-sub', { preferred_username: 'alice', groups: ['engineering', 'sre', 'sre-leads'] })).toBe(303);

    // harry was made by hand; his first sign-in takes the account over with the provider's roles and groups.
    expect(await signIn('harry-sub', { preferred_username: 'harry', email: 'harry@example.com', groups: ['engineering', 'sre'] })).toBe(303);
    // olga leaves the allowed group: the provider disables her; back in it, an admin lets her in again.
    expect(await signIn('olga-sub', { preferred_username: 'olga', email: 'olga@example.com', groups: ['engineering', 'sre'] })).toBe(303);
    expect(await signIn('olga-sub', { preferred_username: 'olga', email: 'olga@example.com', groups: ['sre'] })).toBe(403);
    await admin('POST', '/api/v1/users/olga/enable');
    expect(await signIn('olga-sub', { preferred_username: 'olga', email: 'olga@example.com', groups: ['engineering', 'sre'] })).toBe(303);

    await admin('PATCH', '/api/v1/users/bob', { roles: ['approver', 'lead'], groups: ['sre', 'ops'], email: 'robert@example.com', slackUserId: 'U0BOB' });
    await admin('PATCH', '/api/v1/users/erin', { slackUserId: null, email: 'erin@example.com' });
    await admin('PATCH', '/api/v1/users/mallory', { groups: ['qa'] });
    await admin('POST', '/api/v1/users/carol/disable');
    await admin('POST', '/api/v1/users/carol/enable');
    await admin('POST', '/api/v1/users/dave/disable');

    const request = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest());
    expect((await hub.api('POST', `/api/v1/requests/${request.body.id}/decisions`, bob.token, { decision: 'approve' })).status).toBe(200);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('a role given by hand is named with the user, their id and both role lists', async () => {
    expect(await withRow('mallory', { roles: '["admin"]' })).toEqual([await differs('mallory', 'roles', '["admin"]', '["requester"]', 'event ' + (await lastSeq('mallory', 'user.created')) + ', user.created by admin')]);
    // alice's roles were last set by her sign-in.
    expect(await withRow('alice', { roles: '["requester","approver","lead","admin"]' })).toEqual([
      await differs('alice', 'roles', '["admin","approver","lead","requester"]', '["approver","lead","requester"]', `event ${await lastSeq('alice', 'user.updated')}, user.updated by greenlight`),
    ]);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('a place in the approving group given by hand is named with both group lists', async () => {
    const mallory = await idOf('mallory');
    await db().insertInto('user_groups').values({ user_id: mallory, group_name: 'sre' }).execute();
    try {
      expect(userFindings(await verify())).toEqual([await differs('mallory', 'groups', '["qa","sre"]', '["qa"]', `event ${await lastSeq('mallory', 'user.updated')}, user.updated by admin`)]);
    } finally {
      await db().deleteFrom('user_groups').where('user_id', '=', mallory).where('group_name', '=', 'sre').execute();
    }
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('a disabled account enabled by hand is named, and so is an enabled one disabled by hand', async () => {
    expect(await withRow('dave', { disabled: 0 })).toEqual([await differs('dave', 'disabled', '0', '1', `event ${await lastSeq('dave', 'user.disabled')}, user.disabled by admin`)]);
    // Disabled by the identity provider, enabled by an admin.
    expect(await withRow('olga', { disabled: 1 })).toEqual([await differs('olga', 'disabled', '1', '0', `event ${await lastSeq('olga', 'user.enabled')}, user.enabled by admin`)]);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('an email, a Slack link or a service flag changed by hand is named', async () => {
    expect(await withRow('bob', { email: 'mallory@example.com' })).toEqual([await differs('bob', 'email', 'mallory@example.com', 'robert@example.com', `event ${await lastSeq('bob', 'user.updated')}, user.updated by admin`)]);
    // A Slack click decides as the user its member id is linked to.
    expect(await withRow('mallory', { slack_user_id: 'U0ERIN' })).toEqual([await differs('mallory', 'slack_user_id', 'U0ERIN', null, `event ${await lastSeq('mallory', 'user.created')}, user.created by admin`)]);
    expect(await withRow('deploy-bot', { service: 0 })).toEqual([await differs('deploy-bot', 'service', '0', '1', `event ${await lastSeq('deploy-bot', 'user.created')}, user.created by admin`)]);
    expect(await verify()).toMatchObject({ ok: true });
  });

  // A sign-in opens the account holding the provider's subject: one set by hand lets whoever holds it at the provider in.
  it('a single sign-on subject set by hand is named with both subjects: on the admin never linked, and on users a first sign-in or a takeover linked', async () => {
    const root = (await hub.api<{ name: string }>('GET', '/api/v1/me', ADMIN_TOKEN)).body.name;
    const created = await db().selectFrom('audit_events').select(['seq', 'actor', 'data']).where('type', '=', 'user.created').orderBy('seq').execute();
    const rootCreated = created.find((event) => (JSON.parse(event.data) as { user?: string }).user === root);
    expect(await withRow(root, { oidc_subject: 'mallory-sub' })).toEqual([await differs(root, 'oidc_subject', 'mallory-sub', null, `event ${Number(rootCreated?.seq)}, user.created by ${rootCreated?.actor}`)]);
    // alice's first sign-in made her account; harry's took over the one an admin made.
    expect(await withRow('alice', { oidc_subject: 'mallory-sub' })).toEqual([await differs('alice', 'oidc_subject', 'mallory-sub', 'alice-sub', `event ${await lastSeq('alice', 'user.created')}, user.created by greenlight`)]);
    expect(await withRow('harry', { oidc_subject: null })).toEqual([await differs('harry', 'oidc_subject', null, 'harry-sub', `event ${await lastSeq('harry', 'user.updated')}, user.updated by greenlight`)]);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('a user written by hand is named no_event; one deleted is named missing', async () => {
    await db().insertInto('users').values({ id: 'usr_handmade', name: 'ghost', roles: '["admin"]', disabled: 0, created_at: new Date().toISOString(), email: null, last_seen_at: null, slack_user_id: null, service: 0, oidc_subject: null }).execute();
    try {
      expect(userFindings(await verify())).toEqual([
        { reason: 'no_event', table: 'users', requestId: null, user: 'ghost', userId: 'usr_handmade', problem: 'user ghost (usr_handmade, roles ["admin"]) has no user.created event: it was written into the database by hand' },
      ]);
    } finally {
      await db().deleteFrom('users').where('id', '=', 'usr_handmade').execute();
    }

    await hub.createUser('temp', ['approver'], ['sre']);
    const row = await db().selectFrom('users').selectAll().where('name', '=', 'temp').executeTakeFirstOrThrow();
    await db().deleteFrom('tokens').where('user_id', '=', row.id).execute();
    await db().deleteFrom('user_groups').where('user_id', '=', row.id).execute();
    await db().deleteFrom('users').where('id', '=', row.id).execute();
    try {
      expect(userFindings(await verify())).toEqual([
        { reason: 'state_missing', table: 'users', requestId: null, user: 'temp', problem: 'user temp (active, roles ["approver"], by its audit events) has no row: it was deleted from the database' },
      ]);
    } finally {
      await db().insertInto('users').values(row).execute();
      await db().insertInto('user_groups').values({ user_id: row.id, group_name: 'sre' }).execute();
    }
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('an upgrade records the subjects an older hub linked without an event, so they are no findings, and later sign-ins and changes by hand are held to them', async () => {
    await hub.createUser('paul', ['requester']);
    await hub.stop();
    const raw = rawDatabase(hub);
    try {
      // The database as a hub from before subjects were recorded left it: paul's first sign-in linked him, with no event saying so.
      await raw.deleteFrom('greenlight_migrations' as never).where(sql.ref('name'), '>=', '2026-12-20-101-oidc-subjects-recorded').execute();
      await raw.updateTable('users').set({ oidc_subject: 'paul-sub' }).where('name', '=', 'paul').execute();
    } finally {
      await raw.destroy();
    }
    await hub.start();
    const recorded = (await db().selectFrom('audit_events').select(['seq', 'actor', 'data']).where('type', '=', 'user.updated').orderBy('seq').execute())
      .map((event) => ({ seq: Number(event.seq), actor: event.actor, data: JSON.parse(event.data) as Record<string, unknown> }))
      .filter((event) => event.data.source === 'upgrade');
    expect(recorded.map((event) => [event.actor, event.data.user, event.data.changes])).toEqual(
      ['alice', 'harry', 'olga', 'paul'].map((user) => ['greenlight', user, { oidcSubject: { from: null, to: `${user}-sub` } }]),
    );
    expect(await verify()).toMatchObject({ ok: true });
    expect(await signIn('paul-sub', { preferred_username: 'paul', email: 'paul@example.com', groups: ['engineering', 'sre'] })).toBe(303);
    expect(await verify()).toMatchObject({ ok: true });
    // That sign-in changed paul's roles and groups, not his subject: the upgrade's record of it still stands.
    const paulRecorded = recorded.find((event) => event.data.user === 'paul');
    expect(await withRow('paul', { oidc_subject: 'mallory-sub' })).toEqual([await differs('paul', 'oidc_subject', 'mallory-sub', 'paul-sub', `event ${paulRecorded?.seq}, user.updated by greenlight`)]);
  });

  /** The last event of this type about this user. */
  async function lastSeq(user: string, type: string): Promise<number> {
    const events = await db().selectFrom('audit_events').select(['seq', 'data']).where('type', '=', type).orderBy('seq', 'desc').execute();
    const event = events.find((candidate) => (JSON.parse(candidate.data) as { user?: string }).user === user);
    if (!event) throw new Error(`no ${type} event for ${user}`);
    return Number(event.seq);
  }

  it('a user an older hub\'s first sign-in made, during a rolling upgrade, is not held to a subject its event never recorded', async () => {
    await admin('POST', '/api/v1/users', { name: 'oswin', roles: ['requester'] });
    // What a hub from before subjects were recorded writes for a first sign-in: no oidcSubject.
    await inTransaction(hub.hub.ctx, (trx) =>
      audit(hub.hub.ctx, trx, { actor: 'greenlight', type: 'user.created', outcome: 'created', data: { user: 'oswin', roles: ['requester'], groups: [], source: 'oidc' } }),
    );
    await db().updateTable('users').set({ oidc_subject: 'oswin-sub' }).where('name', '=', 'oswin').execute();
    expect(userFindings(await verify())).toEqual([]);
    // Once an event records a subject, the row is held to it again.
    await inTransaction(hub.hub.ctx, (trx) =>
      audit(hub.hub.ctx, trx, { actor: 'greenlight', type: 'user.updated', outcome: 'updated', data: { user: 'oswin', source: 'oidc', changes: { oidcSubject: { from: null, to: 'oswin-sub' } } } }),
    );
    expect(await withRow('oswin', { oidc_subject: 'mallory-sub' })).toEqual([expect.objectContaining({ reason: 'state_disagrees', user: 'oswin', field: 'oidc_subject', state: 'mallory-sub', log: 'oswin-sub' })]);
  });

});
