import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, CreatedToken, TokenInfo } from '../protocol/index.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
`;

type ErrorBody = { error: { code: string; message: string } };
const errorOf = (body: unknown) => (body as ErrorBody).error;

// A token placed on a pipeline or a target system is the one most likely to leak: it must not be
// able to replace its owner's sign-in, outlive itself, or leave anyone (the hub's last admin
// included) without a way back in.
describe('tokens cannot lock anyone out, and a lost sign-in token can be replaced', () => {
  const hub = new TestHub('sqlite', { policy: POLICY });
  let alice: TestUser, svc: string;
  let adminNow = ADMIN_TOKEN;
  const me = (token: string) => hub.api<{ name: string }>('GET', '/api/v1/me', token);
  const tokensOf = async (token: string, user?: string) =>
    (await hub.api<{ tokens: TokenInfo[] }>('GET', `/api/v1/tokens${user ? `?user=${user}` : ''}`, token)).body.tokens ?? [];
  const make = (token: string, body: Record<string, unknown>) => hub.api<CreatedToken>('POST', '/api/v1/tokens', token, body);

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('bob', ['approver'], ['sre']);
    svc = (await hub.api<{ name: string }>('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'deployer', roles: ['requester'], service: true })).body.name;
  });
  afterAll(() => hub.dispose());

  it('a named API token neither makes tokens nor revokes its owner’s sign-in', async () => {
    const verifyOnly = (await make(alice.token, { name: 'target', scopes: ['grants:verify'], expiresIn: '1h' })).body;
    const initial = (await tokensOf(alice.token)).find((token) => token.kind === 'user');
    expect(initial).toBeDefined();

    const successor = await make(verifyOnly.token, { name: 'forever', scopes: ['grants:verify'], expiresIn: '365d' });
    expect(successor.status).toBe(403);
    expect(errorOf(successor.body)).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('named API token cannot make tokens') });
    const revoked = await hub.api('DELETE', `/api/v1/tokens/${initial?.id}`, verifyOnly.token);
    expect(revoked.status).toBe(403);
    expect(errorOf(revoked.body).message).toContain('named API token cannot revoke tokens');
    expect((await me(alice.token)).status).toBe(200);
    // Her sign-in still manages her tokens.
    expect((await hub.api('DELETE', `/api/v1/tokens/${verifyOnly.id}`, alice.token)).status).toBe(200);
  });

  it('an admin’s API token with the admin scope manages service tokens, but cannot make one of its own that outlives it', async () => {
    const automation = (await make(ADMIN_TOKEN, { name: 'rotation', scopes: ['admin', 'requests:read'], expiresIn: '1h' })).body;
    const forService = await make(automation.token, { name: 'ci', user: svc, scopes: ['requests:create'], expiresIn: '90d' });
    expect(forService.status).toBe(201);
    const longer = await make(automation.token, { name: 'rotation-2', scopes: ['admin'], expiresIn: '30d' });
    expect(longer.status).toBe(403);
    expect(errorOf(longer.body).message).toMatch(/expires at .+, so it cannot make one of yours that lasts longer/);
    expect((await make(automation.token, { name: 'rotation-2', scopes: ['admin'], expiresIn: '30m' })).status).toBe(201);
  });

  it('tells a non-admin the same whether or not the user they name exists', async () => {
    const existing = await make(alice.token, { name: 'x', user: 'admin', scopes: ['requests:read'], expiresIn: '1d' });
    const missing = await make(alice.token, { name: 'x', user: 'no-such-user', scopes: ['requests:read'], expiresIn: '1d' });
    expect(existing.status).toBe(403);
    expect(missing.status).toBe(403);
    expect(errorOf(missing.body).code).toBe(errorOf(existing.body).code);
    expect(errorOf(missing.body)).toEqual(errorOf(existing.body));
  });

  it('an admin’s token without the admin scope is told which scope it lacks, wherever it reaches for another’s tokens', async () => {
    const narrow = (await make(ADMIN_TOKEN, { name: 'read-only', scopes: ['requests:read'], expiresIn: '1d' })).body;
    const aliceToken = (await tokensOf(alice.token))[0];
    const listed = await hub.api('GET', `/api/v1/tokens?user=${svc}`, narrow.token);
    const revoked = await hub.api('DELETE', `/api/v1/tokens/${aliceToken?.id}`, narrow.token);
    for (const refused of [listed, revoked]) {
      expect(refused.status).toBe(403);
      expect(errorOf(refused.body)).toMatchObject({ code: 'INSUFFICIENT_SCOPE', message: expect.stringContaining('"admin" scope') });
    }
  });

  it('an admin’s token without the admin scope sees requests and policy answers as a plain user would', async () => {
    const submitted = await hub.api<{ id: string }>('POST', '/api/v1/requests', alice.token, deployRequest());
    expect(submitted.status).toBe(201);
    const readOnly = (await make(ADMIN_TOKEN, { name: 'dashboard', scopes: ['requests:read'], expiresIn: '1d' })).body;
    expect((await hub.api('GET', `/api/v1/requests/${submitted.body.id}`, readOnly.token)).status).toBe(403);
    const listed = await hub.api<{ requests: { id: string }[] }>('GET', '/api/v1/requests', readOnly.token);
    expect(listed.body.requests.map((request) => request.id)).not.toContain(submitted.body.id);
    const asAlice = await hub.api('GET', '/api/v1/policy/explain?action=deploy&resource=api&environment=production&as=alice', readOnly.token);
    expect(asAlice.status).toBe(403);
    // The same calls with the admin scope reach everything.
    expect((await hub.api('GET', `/api/v1/requests/${submitted.body.id}`, ADMIN_TOKEN)).status).toBe(200);
    expect((await hub.api('GET', '/api/v1/policy/explain?action=deploy&resource=api&environment=production&as=alice', ADMIN_TOKEN)).status).toBe(200);
  });

  it('an admin issues a person a new sign-in token: the old one stops working, their named tokens stay, and it is audited', async () => {
    const named = (await make(alice.token, { name: 'ci', scopes: ['requests:read'], expiresIn: '1d' })).body;
    const before = (await tokensOf(alice.token)).find((token) => token.kind === 'user');
    const issued = await hub.api<CreatedToken>('POST', '/api/v1/users/alice/sign-in-token', ADMIN_TOKEN);
    expect(issued.status).toBe(201);
    expect(issued.body).toMatchObject({ user: 'alice', kind: 'user', expiresAt: null });
    expect((await me(alice.token)).status).toBe(401);
    expect((await me(issued.body.token)).body.name).toBe('alice');
    expect((await me(named.token)).status).toBe(200);
    const events = (await hub.api<{ events: AuditEvent[] }>('GET', '/api/v1/audit?type=token.created', ADMIN_TOKEN)).body.events;
    expect(events[0]).toMatchObject({ actor: 'admin', data: { user: 'alice', token: issued.body.id, kind: 'user', replaced: [before?.id] } });
    alice = { name: 'alice', token: issued.body.token };

    const notAdmin = await hub.api('POST', '/api/v1/users/admin/sign-in-token', alice.token);
    expect(notAdmin.status).toBe(403);
    const service = await hub.api('POST', `/api/v1/users/${svc}/sign-in-token`, ADMIN_TOKEN);
    expect(service.status).toBe(403);
    expect(errorOf(service.body).message).toContain('service user');
  });

  it('the last active admin cannot revoke their last token with the admin scope', async () => {
    const adminTokens = await tokensOf(ADMIN_TOKEN);
    // Only the first token is left with the admin scope once the others are gone.
    for (const token of adminTokens.filter((t) => t.kind === 'api' && t.scopes.includes('admin'))) {
      expect((await hub.api('DELETE', `/api/v1/tokens/${token.id}`, ADMIN_TOKEN)).status).toBe(200);
    }
    const initial = (await tokensOf(ADMIN_TOKEN)).find((token) => token.kind === 'user');
    const refused = await hub.api('DELETE', `/api/v1/tokens/${initial?.id}`, ADMIN_TOKEN);
    expect(refused.status).toBe(409);
    expect(errorOf(refused.body)).toMatchObject({ code: 'LAST_ADMIN', message: expect.stringContaining('last token with the admin scope') });
    expect((await me(ADMIN_TOKEN)).status).toBe(200);

    // A token that expires does not count: in a day nobody could manage users.
    const spare = (await make(ADMIN_TOKEN, { name: 'spare', scopes: ['admin'], expiresIn: '1d' })).body;
    const stillRefused = await hub.api('DELETE', `/api/v1/tokens/${initial?.id}`, ADMIN_TOKEN);
    expect(errorOf(stillRefused.body)).toMatchObject({ code: 'LAST_ADMIN', message: expect.stringContaining('greenlight user sign-in-token admin') });
    // Replacing the sign-in is the way: the new one works, the old one no longer does.
    const fromApiToken = await hub.api('POST', '/api/v1/users/admin/sign-in-token', spare.token);
    expect(fromApiToken.status).toBe(403);
    const replaced = await hub.api<CreatedToken>('POST', '/api/v1/users/admin/sign-in-token', ADMIN_TOKEN);
    expect(replaced.status).toBe(201);
    expect((await me(ADMIN_TOKEN)).status).toBe(401);
    expect((await me(replaced.body.token)).body.name).toBe('admin');
    adminNow = replaced.body.token;
  });

  it('a pipeline may end its own named token when its job is done', async () => {
    const job = (await make(alice.token, { name: 'job-812', scopes: ['requests:create'], expiresIn: '1h' })).body;
    expect((await hub.api('DELETE', `/api/v1/tokens/${job.id}`, job.token)).status).toBe(200);
    expect((await me(job.token)).status).toBe(401);
  });

  it('refuses a user name that reads as a user id, and acts on the id only', async () => {
    const refused = await hub.api('POST', '/api/v1/users', adminNow, { name: 'usr_0abc', roles: ['requester'] });
    expect(refused.status).toBe(400);
    expect(errorOf(refused.body).message).toContain('would read as a user id');
    const badPath = await hub.api('PATCH', '/api/v1/users/bad%20name', adminNow, { email: null });
    expect(badPath.status).toBe(400);
    expect(errorOf(badPath.body).message).toContain('expected a user name (letters, digits and . _ @ -) or a user id (usr_…)');
  });

});
