import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, GreenlightRequest, SetupStatus, SyncResult, User } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { ADMIN_TOKEN, collect, deployRequest, TestHub, type DatabaseKind } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const pg = await postgresAvailability();
const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
  - name: databases
    match: { action: query }
    approvers: [dba]
  - name: rollbacks
    match: { action: rollback }
    approvers: [sre, oncall]
`;

type ErrorBody = { error: { code: string; message: string } };
const usersOf = async (hub: TestHub) => (await hub.api<{ users: User[] }>('GET', '/api/v1/users', ADMIN_TOKEN)).body.users;
const userOf = async (hub: TestHub, name: string) => (await usersOf(hub)).find((user) => user.name === name);
const auditOf = async (hub: TestHub, type: string) => (await hub.api<{ events: AuditEvent[] }>('GET', `/api/v1/audit?type=${type}`, ADMIN_TOKEN)).body.events;

describe.each<DatabaseKind>(['sqlite', 'postgres'])('managing users over HTTP on %s', (kind) => {
  const skip = kind === 'postgres' && !pg.ok;
  const hub = new TestHub(kind, { policy: POLICY });

  beforeAll(async () => {
    if (!skip) await hub.start();
  });
  afterAll(() => hub.dispose());

  it.skipIf(skip)('creates a user with an email and lists roles, groups, email, status and last seen', async () => {
    const created = await hub.api<User & { token: string }>('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'bob', roles: ['approver'], groups: ['sre'], email: ' bob@example.com ' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'bob', roles: ['approver'], groups: ['sre'], email: 'bob@example.com', status: 'active', disabled: false, lastSeenAt: null });
    expect(created.body.token).toMatch(/^glt_/);
    const listed = await userOf(hub, 'bob');
    expect(listed).toEqual({ id: created.body.id, name: 'bob', roles: ['approver'], groups: ['sre'], email: 'bob@example.com', slackUserId: null, service: false, status: 'active', disabled: false, lastSeenAt: null, createdAt: created.body.createdAt });
    expect((await userOf(hub, 'admin'))?.email).toBeNull();
    // Without an email the user has none.
    const plain = await hub.api<User>('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'plain', roles: ['requester'] });
    expect(plain.body.email).toBeNull();
  });

  it.skipIf(skip)('refuses a name that differs from another only by case, naming the one that exists', async () => {
    expect((await hub.api('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'frida', roles: ['approver'], groups: ['sre'] })).status).toBe(201);
    for (const name of ['Frida', 'FRIDA']) {
      const lookalike = await hub.api<ErrorBody>('POST', '/api/v1/users', ADMIN_TOKEN, { name, roles: ['admin'] });
      expect(lookalike.status, name).toBe(409);
      expect(lookalike.body.error).toEqual({ code: 'CONFLICT', message: 'A user named "frida" already exists; names must differ by more than case. Choose another name for this one.' });
    }
    expect((await hub.api<{ users: User[] }>('GET', '/api/v1/users', ADMIN_TOKEN)).body.users.filter((user) => user.name.toLowerCase() === 'frida')).toHaveLength(1);
  });

  it.skipIf(skip)('refuses a malformed email and the reserved names, saying which field and why', async () => {
    const bad = await hub.api<ErrorBody>('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'eve', roles: ['requester'], email: 'not-an-address' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toEqual({ code: 'INVALID_INPUT', message: 'Invalid user: email: must be an email address such as bob@example.com' });
    for (const name of ['greenlight', 'anonymous', 'Greenlight']) {
      const reserved = await hub.api<ErrorBody>('POST', '/api/v1/users', ADMIN_TOKEN, { name, roles: ['requester'] });
      expect(reserved.status, name).toBe(400);
      expect(reserved.body.error.code).toBe('INVALID_INPUT');
      expect(reserved.body.error.message).toMatch(/^Invalid user: name: .*reserved for the hub's own audit entries/);
    }
  });

  it.skipIf(skip)('changes email, groups and roles, audits what changed, and leaves what was not named', async () => {
    const carol = await hub.createUser('carol', ['requester'], ['payments']);
    const changed = await hub.api<User>('PATCH', '/api/v1/users/carol', ADMIN_TOKEN, { email: 'carol@example.com', groups: ['sre', 'leads'], roles: ['approver', 'lead'] });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ name: 'carol', email: 'carol@example.com', groups: ['sre', 'leads'], roles: ['approver', 'lead'], status: 'active' });
    expect(await userOf(hub, 'carol')).toMatchObject({ email: 'carol@example.com', roles: ['approver', 'lead'] });
    expect([...((await userOf(hub, 'carol'))?.groups ?? [])].sort()).toEqual(['leads', 'sre']);

    const onlyEmail = await hub.api<User>('PATCH', '/api/v1/users/carol', ADMIN_TOKEN, { email: null });
    expect(onlyEmail.body).toMatchObject({ email: null, roles: ['approver', 'lead'] });
    expect([...onlyEmail.body.groups].sort()).toEqual(['leads', 'sre']);

    // The audit log lists the newest first.
    const events = (await auditOf(hub, 'user.updated')).filter((event) => event.data.user === 'carol').reverse();
    expect(events.map((event) => event.data.changes)).toEqual([
      { email: { from: null, to: 'carol@example.com' }, groups: { from: ['payments'], to: ['sre', 'leads'] }, roles: { from: ['requester'], to: ['approver', 'lead'] } },
      { email: { from: 'carol@example.com', to: null } },
    ]);
    expect(events.every((event) => event.actor === 'admin' && event.outcome === 'updated')).toBe(true);

    // Saying what the user already has changes nothing and writes nothing.
    await hub.api('PATCH', '/api/v1/users/carol', ADMIN_TOKEN, { roles: ['lead', 'approver'] });
    expect((await auditOf(hub, 'user.updated')).filter((event) => event.data.user === 'carol')).toHaveLength(2);
    // Her token still works, with her new roles.
    expect((await hub.api<{ roles: string[] }>('GET', '/api/v1/me', carol.token)).body.roles).toEqual(['approver', 'lead']);
  });

  it.skipIf(skip)('refuses a malformed change with INVALID_INPUT naming the field, and anyone but an admin', async () => {
    const dan = await hub.createUser('dan', ['approver'], ['sre']);
    const cases: [unknown, string][] = [
      [{}, 'name at least one of email, roles or groups to change'],
      [{ email: 'dan at example' }, 'email: must be an email address'],
      [{ roles: [] }, 'roles: give the user at least one role'],
      [{ roles: ['root'] }, 'roles.0:'],
      [{ groups: ['has space'] }, 'groups.0: use letters, digits'],
      [{ name: 'daniel' }, 'name'],
      ['roles=admin', 'body'],
    ];
    for (const [body, message] of cases) {
      const reply = await hub.api<ErrorBody>('PATCH', '/api/v1/users/dan', ADMIN_TOKEN, body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error.code).toBe('INVALID_INPUT');
      expect(reply.body.error.message, JSON.stringify(body)).toContain(message);
    }
    const self = await hub.api<ErrorBody>('PATCH', '/api/v1/users/dan', dan.token, { roles: ['admin'] });
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe('FORBIDDEN');
    expect((await hub.api<ErrorBody>('PATCH', '/api/v1/users/nobody', ADMIN_TOKEN, { roles: ['approver'] })).body.error.code).toBe('NOT_FOUND');
    expect((await hub.api<ErrorBody>('POST', '/api/v1/users/nobody/enable', ADMIN_TOKEN)).body.error.code).toBe('NOT_FOUND');
    expect((await hub.api<ErrorBody>('POST', '/api/v1/users/dan/enable', dan.token)).body.error.code).toBe('FORBIDDEN');
  });

  it.skipIf(skip)('disables and re-enables: the same token stops working, then works again; both are audited', async () => {
    const erin = await hub.createUser('erin', ['requester']);
    expect((await hub.api('POST', '/api/v1/users/erin/disable', ADMIN_TOKEN)).status).toBe(200);
    expect((await hub.api('GET', '/api/v1/me', erin.token)).status).toBe(401);
    expect(await userOf(hub, 'erin')).toMatchObject({ status: 'disabled', disabled: true });

    const enabled = await hub.api<User>('POST', '/api/v1/users/erin/enable', ADMIN_TOKEN);
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ name: 'erin', status: 'active', disabled: false });
    expect((await hub.api('GET', '/api/v1/me', erin.token)).status).toBe(200);
    // Enabling someone already active changes nothing.
    expect((await hub.api<User>('POST', '/api/v1/users/erin/enable', ADMIN_TOKEN)).body.status).toBe('active');
    const enables = (await auditOf(hub, 'user.enabled')).filter((event) => event.data.user === 'erin');
    expect(enables).toHaveLength(1);
    expect(enables[0]).toMatchObject({ actor: 'admin', outcome: 'enabled' });
  });

  it.skipIf(skip)('moves a connected approver to their new groups at once: they reconnect and get the new groups’ requests only', async () => {
    const fay = await hub.createUser('fay', ['approver'], ['sre']);
    const requester = await hub.createUser('gus', ['requester']);
    const client = await hub.connect(fay);
    const syncs = collect<SyncResult>((listener) => client.onSync(listener));
    const created = collect<GreenlightRequest>((listener) => client.on('request:created', listener));

    await hub.api('PATCH', '/api/v1/users/fay', ADMIN_TOKEN, { groups: ['dba'] });
    await syncs.next((sync) => sync.me.groups.includes('dba'));
    const sreRequest = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', requester.token, deployRequest({ reason: 'for sre' }));
    const dbaRequest = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', requester.token, deployRequest({ action: 'query', reason: 'for dba' }));
    expect((await created.next((request) => request.id === dbaRequest.body.id)).reason).toBe('for dba');
    expect(created.items.map((request) => request.id)).not.toContain(sreRequest.body.id);
    // And the decision follows the new group: the dba request is hers to decide, the sre one is not.
    expect((await hub.api('POST', `/api/v1/requests/${sreRequest.body.id}/decisions`, fay.token, { decision: 'approve' })).status).toBe(403);
    expect((await hub.api('POST', `/api/v1/requests/${dbaRequest.body.id}/decisions`, fay.token, { decision: 'approve' })).status).toBe(200);
  });

  it.skipIf(skip)('disabling someone ends their access: their waiting requests are cancelled and their grants revoked, for good', async () => {
    const kim = await hub.createUser('kim', ['requester']);
    const lou = await hub.createUser('lou', ['approver'], ['sre']);
    const granted = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', kim.token, deployRequest({ reason: 'granted before' }));
    await hub.api('POST', `/api/v1/requests/${granted.body.id}/decisions`, lou.token, { decision: 'approve' });
    const grant = (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${granted.body.id}`, kim.token)).body.grant;
    expect(grant?.token).toBeTruthy();
    const waiting = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', kim.token, deployRequest({ reason: 'still waiting' }));
    const approver = await hub.connect(lou);
    const updates = collect<GreenlightRequest>((listener) => approver.on('request:updated', listener));

    expect((await hub.api('POST', '/api/v1/users/kim/disable', ADMIN_TOKEN)).status).toBe(200);

    // The approver's inbox drops the request at once, and nobody can approve it any more.
    expect((await updates.next((request) => request.id === waiting.body.id)).status).toBe('cancelled');
    const decide = await hub.api<ErrorBody>('POST', `/api/v1/requests/${waiting.body.id}/decisions`, lou.token, { decision: 'approve' });
    expect(decide.body.error.code).toBe('ALREADY_DECIDED');
    expect((await hub.api<{ valid: boolean; reason: string }>('POST', '/api/v1/grants/verify', null, { token: grant?.token })).body).toMatchObject({ valid: false, reason: 'revoked' });
    const cancelled = (await auditOf(hub, 'request.cancelled')).find((event) => event.requestId === waiting.body.id);
    expect(cancelled).toMatchObject({ actor: 'admin', data: { reason: 'kim was disabled' } });
    const revoked = (await auditOf(hub, 'grant.revoked')).find((event) => event.requestId === granted.body.id);
    expect(revoked).toMatchObject({ actor: 'admin', data: { jti: grant?.jti, why: 'kim was disabled' } });

    // Letting them back in does not bring the grant back: they ask anew.
    await hub.api('POST', '/api/v1/users/kim/enable', ADMIN_TOKEN);
    expect((await hub.api<{ valid: boolean }>('POST', '/api/v1/grants/verify', null, { token: grant?.token })).body.valid).toBe(false);
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${waiting.body.id}`, kim.token)).body.status).toBe('cancelled');
    // A claim they held on someone else's request ends with them, rather than holding escalation back until it lapses.
    const mo = await hub.createUser('mo', ['approver'], ['sre']);
    const claimed = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', (await hub.createUser('nat', ['requester'])).token, deployRequest({ reason: 'claimed by mo' }));
    expect((await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${claimed.body.id}/claim`, mo.token)).body.claim?.by).toBe('mo');
    await hub.api('POST', '/api/v1/users/mo/disable', ADMIN_TOKEN);
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${claimed.body.id}`, lou.token)).body).toMatchObject({ status: 'pending', claim: null });
    expect((await auditOf(hub, 'request.released')).find((event) => event.requestId === claimed.body.id)).toMatchObject({ actor: 'admin', data: { reason: 'mo was disabled', claimer: 'mo' } });

    // A grant issued by a call that raced the disable is void all the same, whatever its row says.
    const raced = await hub.createUser('ray', ['requester']);
    const racedRequest = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', raced.token, deployRequest({ reason: 'raced' }));
    await hub.api('POST', `/api/v1/requests/${racedRequest.body.id}/decisions`, lou.token, { decision: 'approve' });
    const racedGrant = (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${racedRequest.body.id}`, raced.token)).body.grant;
    await hub.hub.ctx.store.db.updateTable('users').set({ disabled: 1 }).where('name', '=', 'ray').execute();
    expect((await hub.api<{ valid: boolean; reason: string }>('POST', '/api/v1/grants/verify', null, { token: racedGrant?.token })).body).toMatchObject({ valid: false, reason: 'revoked' });
    // Nor does letting ray back in bring it back: enabling revokes what the race left active.
    await hub.api('POST', '/api/v1/users/ray/enable', ADMIN_TOKEN);
    expect((await hub.api<{ valid: boolean; reason: string }>('POST', '/api/v1/grants/verify', null, { token: racedGrant?.token })).body).toMatchObject({ valid: false, reason: 'revoked' });
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${racedRequest.body.id}`, raced.token)).body.grant?.status).toBe('revoked');

    // A vote let in just before its approver was disabled is refused inside its transaction, not counted after.
    const pat = await hub.createUser('pat', ['approver'], ['sre']);
    expect((await hub.api('GET', '/api/v1/me', pat.token)).status).toBe(200);
    const undecided = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', raced.token, deployRequest({ reason: 'voted on by pat?' }));
    await hub.hub.ctx.store.db.updateTable('users').set({ disabled: 1 }).where('name', '=', 'pat').execute();
    const vote = await hub.api<ErrorBody>('POST', `/api/v1/requests/${undecided.body.id}/decisions`, pat.token, { decision: 'approve' });
    expect(vote.status).toBe(401);
    // SQLite's hub remembers who a token is for a while, so the call is let in and the transaction refuses it;
    // a PostgreSQL hub (others may change users) reads the token afresh and refuses it at the door.
    if (kind === 'sqlite') expect(vote.body.error).toEqual({ code: 'UNAUTHENTICATED', message: 'Your account has been disabled; nothing was decided.' });
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${undecided.body.id}`, raced.token)).body).toMatchObject({ status: 'pending', decisions: [] });

    // Disabling again someone already disabled writes nothing twice.
    await hub.api('POST', '/api/v1/users/kim/disable', ADMIN_TOKEN);
    await hub.api('POST', '/api/v1/users/kim/disable', ADMIN_TOKEN);
    expect((await auditOf(hub, 'user.disabled')).filter((event) => event.data.user === 'kim')).toHaveLength(2);
  });

  it.skipIf(skip)('records when each user was last seen, once they use their token', async () => {
    const hal = await hub.createUser('hal', ['requester']);
    expect((await userOf(hub, 'hal'))?.lastSeenAt).toBeNull();
    const before = Date.now();
    await hub.api('GET', '/api/v1/me', hal.token);
    await expect.poll(async () => (await userOf(hub, 'hal'))?.lastSeenAt ?? null).not.toBeNull();
    const seen = Date.parse((await userOf(hub, 'hal'))?.lastSeenAt ?? '');
    expect(seen).toBeGreaterThanOrEqual(before - 1000);
    expect(seen).toBeLessThanOrEqual(Date.now());
  });

  it.skipIf(skip)('tells an admin where the policy is and which approver groups have nobody who can approve', async () => {
    const status = await hub.api<SetupStatus>('GET', '/api/v1/setup', ADMIN_TOKEN);
    expect(status.status).toBe(200);
    expect(status.body.policy).toEqual({ source: 'file', file: hub.policyPath, rules: 3, digest: expect.stringMatching(/^[0-9a-f]{12}$/) });
    // A hub alone on its database has no other hub's policy to compare with; on SQLite there can be none.
    expect(status.body.cluster).toEqual(kind === 'postgres' ? { hubs: [], policyWarning: null, clockAheadSeconds: expect.any(Number), clockWarning: null } : null);
    const groups = Object.fromEntries(status.body.approverGroups.map((group) => [group.group, group]));
    expect(Object.keys(groups).sort()).toEqual(['dba', 'oncall', 'sre']);
    expect(groups.sre?.rules).toEqual(['prod', 'rollbacks']);
    expect(groups.sre?.approvers).toEqual(expect.arrayContaining(['bob', 'carol', 'dan']));
    // fay moved to dba; requesters and disabled users are not approvers.
    expect(groups.dba?.approvers).toEqual(['fay']);
    expect(groups.oncall?.approvers).toEqual([]);
    const users = await usersOf(hub);
    expect(status.body.users).toEqual({ total: users.length, active: users.filter((user) => user.status === 'active').length });
    const approver = await hub.api<ErrorBody>('GET', '/api/v1/setup', (await hub.createUser('ivy', ['approver'])).token);
    expect(approver.status).toBe(403);
  });
});

describe.each<DatabaseKind>(['sqlite', 'postgres'])('the last active admin on %s', (kind) => {
  const skip = kind === 'postgres' && !pg.ok;
  const hub = new TestHub(kind);

  beforeAll(async () => {
    if (!skip) await hub.start();
  });
  afterAll(() => hub.dispose());

  it.skipIf(skip)('cannot remove their own admin role or disable themselves', async () => {
    const demote = await hub.api<ErrorBody>('PATCH', '/api/v1/users/admin', ADMIN_TOKEN, { roles: ['approver'] });
    expect(demote.status).toBe(409);
    expect(demote.body.error).toEqual({ code: 'LAST_ADMIN', message: 'You are the last active admin: removing the admin role would leave nobody able to manage users. Make someone else an admin first.' });
    const disable = await hub.api<ErrorBody>('POST', '/api/v1/users/admin/disable', ADMIN_TOKEN);
    expect(disable.status).toBe(409);
    expect(disable.body.error.code).toBe('LAST_ADMIN');
    // Other changes to the last admin are fine.
    expect((await hub.api('PATCH', '/api/v1/users/admin', ADMIN_TOKEN, { email: 'admin@example.com', roles: ['admin', 'approver', 'lead'] })).status).toBe(200);
  });

  it.skipIf(skip)('with another admin, still cannot demote or disable themselves, but the other admin can', async () => {
    const other = await hub.createUser('olga', ['admin']);
    const self = await hub.api<ErrorBody>('PATCH', '/api/v1/users/admin', ADMIN_TOKEN, { roles: ['approver'] });
    expect(self.status).toBe(403);
    expect(self.body.error).toEqual({ code: 'FORBIDDEN', message: 'You cannot remove your own admin role; ask another admin to do it.' });
    expect((await hub.api<ErrorBody>('POST', '/api/v1/users/admin/disable', ADMIN_TOKEN)).body.error.code).toBe('FORBIDDEN');

    expect((await hub.api('PATCH', '/api/v1/users/admin', other.token, { roles: ['approver'] })).status).toBe(200);
    expect((await hub.api<ErrorBody>('GET', '/api/v1/users', ADMIN_TOKEN)).body.error.code).toBe('FORBIDDEN');
    // olga is now the last one.
    expect((await hub.api<ErrorBody>('PATCH', '/api/v1/users/olga', other.token, { roles: ['approver'] })).body.error.code).toBe('LAST_ADMIN');
    expect((await hub.api('PATCH', '/api/v1/users/admin', other.token, { roles: ['admin', 'approver'] })).status).toBe(200);
  });

  it.skipIf(skip)('two admins demoting each other at the same moment leave one admin', async () => {
    const a = await hub.createUser('ann', ['admin']);
    const b = await hub.createUser('ben', ['admin']);
    // admin and olga step aside first, so ann and ben are the only admins.
    await hub.api('PATCH', '/api/v1/users/olga', ADMIN_TOKEN, { roles: ['approver'] });
    await hub.api('PATCH', '/api/v1/users/admin', a.token, { roles: ['approver'] });
    const [one, two] = await Promise.all([
      hub.api<ErrorBody>('PATCH', '/api/v1/users/ben', a.token, { roles: ['approver'] }),
      hub.api<ErrorBody>('PATCH', '/api/v1/users/ann', b.token, { roles: ['approver'] }),
    ]);
    const statuses = [one.status, two.status];
    // The second to commit either finds itself demoted (its token is no longer an admin's) or the other as the last admin.
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    const refused = one.status === 200 ? two : one;
    expect(['LAST_ADMIN', 'FORBIDDEN']).toContain(refused.body.error.code);
    const admins = (await usersOf2(hub, one.status === 200 ? a.token : b.token)).filter((user) => user.roles.includes('admin') && user.status === 'active');
    expect(admins).toHaveLength(1);
  });
});

const usersOf2 = async (hub: TestHub, token: string) => (await hub.api<{ users: User[] }>('GET', '/api/v1/users', token)).body.users;

describe('last seen is written at most once a minute per user', () => {
  const clock = new ManualClock('2030-01-01T00:00:00.000Z');
  const hub = new TestHub('sqlite', { clock });

  beforeAll(() => hub.start());
  afterAll(() => hub.dispose());

  it('keeps the first time of each minute, then takes the next one after it', async () => {
    const ray = await hub.createUser('ray', ['requester']);
    const sam = await hub.createUser('sam', ['requester']);
    const seen = async (name: string) => (await userOf(hub, name))?.lastSeenAt;
    await hub.api('GET', '/api/v1/me', ray.token);
    await expect.poll(() => seen('ray')).toBe('2030-01-01T00:00:00.000Z');
    clock.advance(30_000);
    await hub.api('GET', '/api/v1/me', ray.token);
    clock.advance(29_000);
    await hub.api('GET', '/api/v1/me', ray.token);
    // Writes land in the order they were taken: once sam's (later) one is in, any for ray would be too.
    await hub.api('GET', '/api/v1/me', sam.token);
    await expect.poll(() => seen('sam')).toBe('2030-01-01T00:00:59.000Z');
    expect(await seen('ray')).toBe('2030-01-01T00:00:00.000Z');
    clock.advance(2_000);
    await hub.api('GET', '/api/v1/me', ray.token);
    await expect.poll(() => seen('ray')).toBe('2030-01-01T00:01:01.000Z');
  });
});
