import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io } from 'socket.io-client';
import type { AuditEvent, CreatedToken, CreatedUser, GreenlightRequest, TokenInfo } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { ADMIN_TOKEN, collect, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';
import type { Actor } from './domain/actor.js';
import { eventually } from './test-support/eventually.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
`;

const clock = new ManualClock('2030-01-01T00:00:00.000Z');
const hub = new TestHub('sqlite', { policy: POLICY, clock });
let alice: TestUser;
let bob: TestUser;

type ErrorBody = { error: { code: string; message: string } };
const errorOf = (body: unknown) => (body as ErrorBody).error;
const auditOf = async (type: string) => (await hub.api<{ events: AuditEvent[] }>('GET', `/api/v1/audit?type=${type}`, ADMIN_TOKEN)).body.events;
const makeToken = async (user: TestUser, body: Record<string, unknown>) => hub.api<CreatedToken>('POST', '/api/v1/tokens', user.token, body);
const pipelineToken = async (user: TestUser, name = 'ci') => {
  const made = await makeToken(user, { name, scopes: ['requests:create', 'requests:read'], expiresIn: '90d' });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  return made.body;
};

beforeAll(async () => {
  await hub.start();
  alice = await hub.createUser('alice', ['requester']);
  bob = await hub.createUser('bob', ['approver'], ['sre']);
});
afterAll(() => hub.dispose());

describe('named, scoped, expiring tokens', () => {
  it('a pipeline token submits and reads but cannot decide; the token is shown once and listed without it', async () => {
    const ci = await pipelineToken(alice);
    expect(ci.token).toMatch(/^glt_/);
    expect(ci).toMatchObject({ name: 'ci', user: 'alice', kind: 'api', scopes: ['requests:create', 'requests:read'], lastUsedAt: null });
    expect(Date.parse(ci.expiresAt ?? '') - clock.now().getTime()).toBe(90 * 86_400_000);

    const listed = await hub.api<{ tokens: TokenInfo[] }>('GET', '/api/v1/tokens', alice.token);
    const { token: _shownOnce, ...withoutSecret } = ci;
    expect(listed.body.tokens).toContainEqual(withoutSecret);
    expect(JSON.stringify(listed.body)).not.toContain(ci.token);

    const me = await hub.api<Actor>('GET', '/api/v1/me', ci.token);
    expect(me.body).toMatchObject({ name: 'alice', tokenId: ci.id, tokenKind: 'api', scopes: ['requests:create', 'requests:read'] });
    const submitted = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', ci.token, deployRequest());
    expect(submitted.status).toBe(201);
    expect((await hub.api('GET', `/api/v1/requests/${submitted.body.id}`, ci.token)).status).toBe(200);

    const bobsReadOnly = (await makeToken(bob, { name: 'dashboard', scopes: ['requests:read'], expiresIn: '7d' })).body;
    const decided = await hub.api('POST', `/api/v1/requests/${submitted.body.id}/decisions`, bobsReadOnly.token, { decision: 'approve' });
    expect(decided.status).toBe(403);
    expect(errorOf(decided.body)).toMatchObject({ code: 'INSUFFICIENT_SCOPE', message: expect.stringContaining('"requests:decide"') });
    expect((await hub.api('GET', '/api/v1/audit', ci.token)).status).toBe(403);
  });

  it('a token made only to submit follows the requests it submitted to their outcome, and reads no others', async () => {
    const submitOnly = (await makeToken(alice, { name: 'submit-only', scopes: ['requests:create'], expiresIn: '1d' })).body;
    const mine = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', submitOnly.token, deployRequest());
    expect(mine.status).toBe(201);
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${mine.body.id}`, submitOnly.token)).body.status).toBe('pending');
    expect((await hub.api('POST', `/api/v1/requests/${mine.body.id}/decisions`, bob.token, { decision: 'approve' })).status).toBe(200);
    const waited = await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${mine.body.id}/wait?timeoutSeconds=1`, submitOnly.token);
    expect(waited.body).toMatchObject({ status: 'approved', grant: { token: expect.any(String) } });

    // Her other requests, made with her sign-in, and their grants, are not the pipeline token's to read.
    const fromConsole = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ reason: 'from the console' }));
    const notItsOwn = await hub.api('GET', `/api/v1/requests/${fromConsole.body.id}`, submitOnly.token);
    expect(notItsOwn.status).toBe(403);
    expect(errorOf(notItsOwn.body).code).toBe('INSUFFICIENT_SCOPE');

    const carol = await hub.createUser('carol-requester', ['requester']);
    const hers = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', carol.token, deployRequest());
    const bobsSubmitOnly = (await makeToken(bob, { name: 'submit-only', scopes: ['requests:create'], expiresIn: '1d' })).body;
    const refused = await hub.api('GET', `/api/v1/requests/${hers.body.id}`, bobsSubmitOnly.token);
    expect(refused.status).toBe(403);
    expect(errorOf(refused.body)).toMatchObject({ code: 'INSUFFICIENT_SCOPE', message: expect.stringContaining('"requests:read"') });
    expect((await hub.api('GET', `/api/v1/requests/${hers.body.id}`, bob.token)).status).toBe(200);
  });

  it('an idempotency key its owner used with another token does not hand a submit-only token that request, nor its grant', async () => {
    const body = deployRequest({ reason: 'release 42', idempotencyKey: 'deploy-42' });
    const fromConsole = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, body);
    expect((await hub.api('POST', `/api/v1/requests/${fromConsole.body.id}/decisions`, bob.token, { decision: 'approve' })).status).toBe(200);
    const submitOnly = (await makeToken(alice, { name: 'submit-only-replay', scopes: ['requests:create'], expiresIn: '1d' })).body;
    const replayed = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', submitOnly.token, body);
    expect(replayed.status).toBe(403);
    expect(errorOf(replayed.body)).toMatchObject({ code: 'INSUFFICIENT_SCOPE', message: expect.stringContaining('new idempotency key') });
    expect(JSON.stringify(replayed.body)).not.toContain('"grant"');
    // Nor may it end one: cancelling answers with the request too.
    const waiting = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ reason: 'from the console, still waiting' }));
    const cancelled = await hub.api('POST', `/api/v1/requests/${waiting.body.id}/cancel`, submitOnly.token, {});
    expect(cancelled.status).toBe(403);
    expect(errorOf(cancelled.body).code).toBe('INSUFFICIENT_SCOPE');
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${waiting.body.id}`, alice.token)).body.status).toBe('pending');
    // Nor act on the grant of one: extending answers with a new grant, revoking ends hers.
    const jti = (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${fromConsole.body.id}`, alice.token)).body.grant?.jti ?? '';
    expect(jti).not.toBe('');
    for (const action of ['extend', 'revoke']) {
      const refused = await hub.api('POST', `/api/v1/grants/${jti}/${action}`, submitOnly.token, action === 'extend' ? { ttlSeconds: 600, reason: 'more time' } : {});
      expect(refused.status, action).toBe(403);
      expect(errorOf(refused.body).code, action).toBe('INSUFFICIENT_SCOPE');
    }
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${fromConsole.body.id}`, alice.token)).body.grant?.status).toBe('active');

    // Its own submission, retried under its key, comes back as usual.
    const own = deployRequest({ reason: 'release 43', idempotencyKey: 'deploy-43' });
    const first = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', submitOnly.token, own);
    const again = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', submitOnly.token, own);
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body.id).toBe(first.body.id);
  });

  it('a listing marks the token it was asked with, so an app can say which one revoking would sign it out of', async () => {
    const ci = await pipelineToken(alice, 'ci-current');
    const bySignIn = (await hub.api<{ tokens: TokenInfo[] }>('GET', '/api/v1/tokens', alice.token)).body.tokens;
    expect(bySignIn.filter((token) => token.current)).toEqual([expect.objectContaining({ kind: 'user', user: 'alice' })]);
    expect(bySignIn.find((token) => token.id === ci.id)).not.toHaveProperty('current');
    // Asked with the pipeline's token (it may list its user's tokens), that one is marked instead.
    const byCi = await hub.api<{ tokens: TokenInfo[] }>('GET', '/api/v1/tokens', ci.token);
    expect(byCi.body.tokens.filter((token) => token.current).map((token) => token.id)).toEqual([ci.id]);
    // Someone else's listing, read by an admin, marks none of theirs.
    const byAdmin = (await hub.api<{ tokens: TokenInfo[] }>('GET', '/api/v1/tokens?user=alice', ADMIN_TOKEN)).body.tokens;
    expect(byAdmin.some((token) => token.current)).toBe(false);
  });

  it('records when a token was last used', async () => {
    const ci = await pipelineToken(alice, 'last-used');
    expect((await hub.api('GET', '/api/v1/requests', ci.token)).status).toBe(200);
    const used = await eventually(async () => {
      const tokens = (await hub.api<{ tokens: TokenInfo[] }>('GET', '/api/v1/tokens', alice.token)).body.tokens;
      return tokens.find((token) => token.id === ci.id && token.lastUsedAt !== null);
    }, { what: 'lastUsedAt to be written' });
    expect(used.lastUsedAt).toBe(clock.now().toISOString());
  });

  it('never holds more than the role allows, nor more than the token making it', async () => {
    const beyondRole = await makeToken(alice, { name: 'greedy', scopes: ['requests:create', 'requests:decide'], expiresIn: '1d' });
    expect(beyondRole.status).toBe(403);
    expect(errorOf(beyondRole.body).message).toContain('"requests:decide"');
    const ci = await pipelineToken(alice, 'narrow');
    const escalate = await hub.api('POST', '/api/v1/tokens', ci.token, { name: 'wider', scopes: ['grants:verify'], expiresIn: '1d' });
    expect(escalate.status).toBe(403);
    expect(errorOf(escalate.body).code).toBe('INSUFFICIENT_SCOPE');
  });

  it('requires an expiry of at most a year and names what is wrong', async () => {
    for (const [body, words] of [
      [{ name: 'x', scopes: ['requests:read'] }, 'expiresIn'],
      [{ name: 'x', scopes: ['requests:read'], expiresIn: '366d' }, 'at most a year'],
      [{ name: 'x', scopes: ['requests:read'], expiresIn: 'soon' }, 'duration'],
      [{ name: 'x', scopes: [], expiresIn: '1d' }, 'at least one scope'],
      [{ name: 'x', scopes: ['root'], expiresIn: '1d' }, 'scopes'],
    ] as const) {
      const reply = await makeToken(alice, body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(errorOf(reply.body)).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining(words) });
    }
    expect((await makeToken(alice, { name: 'year', scopes: ['requests:read'], expiresIn: '365d' })).status).toBe(201);
  });

  it('an expired token is refused with the reason, and the refusal is audited', async () => {
    const short = (await makeToken(alice, { name: 'short-lived', scopes: ['requests:read'], expiresIn: '1h' })).body;
    expect((await hub.api('GET', '/api/v1/requests', short.token)).status).toBe(200);
    clock.advance(3_600_000);
    const refused = await hub.api('GET', '/api/v1/requests', short.token);
    expect(refused.status).toBe(401);
    expect(errorOf(refused.body).message).toContain('"short-lived") expired at');
    const failures = await auditOf('auth.failed');
    expect(failures.some((event) => String(event.data.reason).includes(short.id))).toBe(true);
  });

  it('a socket opened before its token expired is closed when it expires, even one that only listens; the app is told why', async () => {
    const short = (await makeToken(bob, { name: 'short-socket', scopes: ['requests:read', 'requests:decide'], expiresIn: '1h' })).body;
    const client = await hub.connect({ name: 'bob', token: short.token });
    const states = collect<string>((listener) => client.onState(listener));
    const created = collect<GreenlightRequest>((listener) => client.on('request:created', listener));
    const before = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ reason: 'while the token lasts' }))).body;
    await created.next((request) => request.id === before.id);

    clock.advance(3_600_000);
    // It reconnects, and the handshake says in its own words why it may not.
    await states.next((state) => state === 'unauthorized');
    expect(client.error).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringContaining('"short-socket") expired at') });
    const after = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ reason: 'after it expired' }))).body;
    // bob's own token still hears of it; the expired one heard nothing more.
    const bobNow = await hub.connect(bob);
    expect((await bobNow.sync()).inbox.map((request) => request.id)).toContain(after.id);
    expect(created.items.map((request) => request.id)).not.toContain(after.id);
  });

  it('a socket call made with a token that has expired is refused, whatever the socket’s timer did', async () => {
    const short = (await makeToken(bob, { name: 'short-call', scopes: ['requests:read', 'requests:decide'], expiresIn: '1h' })).body;
    const request = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ reason: 'decided over an old socket?' }))).body;
    const socket = io(hub.url, { auth: { token: short.token }, forceNew: true, transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    // The clock is moved without running the hub's timers, as a timer late behind a busy event loop would be.
    clock.set(new Date(clock.now().getTime() + 3_600_000));
    const answer = (await socket.timeout(10_000).emitWithAck('request:decide', { requestId: request.id, decision: 'approve' })) as { error?: { code: string; message: string } };
    expect(answer.error).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringContaining('"short-call") expired at') });
    socket.close();
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${request.id}`, alice.token)).body).toMatchObject({ status: 'pending', decisions: [] });
  });

  it('an admin’s token without the admin scope acts as a plain user on what is not theirs', async () => {
    const narrow = (await hub.api<CreatedToken>('POST', '/api/v1/tokens', ADMIN_TOKEN, { name: 'admin-narrow', scopes: ['requests:create', 'requests:read', 'requests:decide'], expiresIn: '1d' })).body;
    const selfApproved = await hub.api<CreatedUser>('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'sam', roles: ['approver'], groups: ['sre'] });
    const request = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ reason: 'for the scope check' }))).body;
    const approved = (await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${request.id}/decisions`, selfApproved.body.token ?? '', { decision: 'approve' })).body;
    const revoke = await hub.api('POST', `/api/v1/grants/${approved.grant?.jti ?? ''}/revoke`, narrow.token);
    expect(revoke.status).toBe(403);
    const delegation = await hub.api('POST', '/api/v1/delegations', narrow.token, { from: 'bob', to: 'sam', endsAt: new Date(clock.now().getTime() + 86_400_000).toISOString(), reason: 'away' });
    expect(delegation.status).toBe(403);
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${request.id}`, alice.token)).body.grant?.status).toBe('active');
    // With the admin scope, the same admin may.
    expect((await hub.api('POST', `/api/v1/grants/${approved.grant?.jti ?? ''}/revoke`, ADMIN_TOKEN)).status).toBe(200);
  });

  it('revoking ends the token at once, closes its sockets, and is audited; nobody revokes another’s', async () => {
    const ci = await pipelineToken(alice, 'to-revoke');
    const socket = io(hub.url, { auth: { token: ci.token }, forceNew: true, transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const closed = new Promise<void>((resolve) => socket.once('disconnect', () => resolve()));
    expect((await hub.api('DELETE', `/api/v1/tokens/${ci.id}`, bob.token)).status).toBe(404);
    const revoked = await hub.api<TokenInfo>('DELETE', `/api/v1/tokens/${ci.id}`, alice.token);
    expect(revoked.status).toBe(200);
    await closed;
    expect((await hub.api('GET', '/api/v1/requests', ci.token)).status).toBe(401);
    const again = io(hub.url, { auth: { token: ci.token }, forceNew: true, transports: ['websocket'], reconnection: false });
    const refusal = await new Promise<{ data?: { code?: string } }>((resolve) => again.once('connect_error', (error) => resolve(error as { data?: { code?: string } })));
    again.close();
    socket.close();
    expect(refusal.data?.code).toBe('UNAUTHENTICATED');
    const created = (await auditOf('token.created')).find((event) => event.data.token === ci.id);
    expect(created?.data).toMatchObject({ user: 'alice', name: 'to-revoke', scopes: ['requests:create', 'requests:read'] });
    expect((await auditOf('token.revoked')).find((event) => event.data.token === ci.id)).toMatchObject({ actor: 'alice' });
  });

  it('a socket event checks the token’s scope too', async () => {
    const readOnly = (await makeToken(bob, { name: 'socket-read', scopes: ['requests:read'], expiresIn: '1d' })).body;
    const socket = io(hub.url, { auth: { token: readOnly.token }, forceNew: true, transports: ['websocket'], reconnection: false });
    try {
      const synced = (await socket.timeout(10_000).emitWithAck('requests:sync', {})) as { data?: unknown };
      expect(synced).toHaveProperty('data');
      const submitted = (await socket.timeout(10_000).emitWithAck('request:submit', deployRequest())) as { error?: { code: string } };
      expect(submitted.error?.code).toBe('INSUFFICIENT_SCOPE');
    } finally {
      socket.close();
    }
  });

  it('taking a role away takes its scopes from the tokens made before', async () => {
    const carol = await hub.createUser('carol', ['approver'], ['sre']);
    const decider = (await makeToken(carol, { name: 'decider', scopes: ['requests:read', 'requests:decide'], expiresIn: '1d' })).body;
    expect((await hub.api('PATCH', '/api/v1/users/carol', ADMIN_TOKEN, { roles: ['requester'] })).status).toBe(200);
    const me = await hub.api<Actor>('GET', '/api/v1/me', decider.token);
    expect(me.body.scopes).toEqual(['requests:read']);
  });
});

describe('service users', () => {
  it('have no sign-in token, never approve, and get tokens an admin makes for them', async () => {
    const created = await hub.api<CreatedUser>('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'deploy-bot', roles: ['requester'], service: true });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'deploy-bot', service: true, token: null });
    const approver = await hub.api('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'approve-bot', roles: ['approver'], service: true });
    expect(approver.status).toBe(400);
    expect(errorOf(approver.body).message).toContain('never approves');

    const forBot = await hub.api<CreatedToken>('POST', '/api/v1/tokens', ADMIN_TOKEN, { user: 'deploy-bot', name: 'ci', scopes: ['requests:create', 'requests:read'], expiresIn: '90d' });
    expect(forBot.status).toBe(201);
    expect(forBot.body.user).toBe('deploy-bot');
    expect((await hub.api('POST', '/api/v1/requests', forBot.body.token, deployRequest())).status).toBe(201);
    const listed = await hub.api<{ tokens: TokenInfo[] }>('GET', '/api/v1/tokens?user=deploy-bot', ADMIN_TOKEN);
    expect(listed.body.tokens.map((token) => token.name)).toEqual(['ci']);

    const decide = await hub.api('POST', '/api/v1/tokens', ADMIN_TOKEN, { user: 'deploy-bot', name: 'x', scopes: ['requests:decide'], expiresIn: '1d' });
    expect(decide.status).toBe(403);
    const forAPerson = await hub.api('POST', '/api/v1/tokens', ADMIN_TOKEN, { user: 'alice', name: 'x', scopes: ['requests:read'], expiresIn: '1d' });
    expect(forAPerson.status).toBe(403);
    expect(errorOf(forAPerson.body).message).toContain('not a service user');
    const byNonAdmin = await makeToken(alice, { user: 'deploy-bot', name: 'x', scopes: ['requests:read'], expiresIn: '1d' });
    expect(byNonAdmin.status).toBe(403);
  });
});
