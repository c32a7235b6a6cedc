import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuditEvent, CreatedUser, TokenInfo } from '../../protocol/index.js';
import { ADMIN_TOKEN, TestHub } from '../test-support/hub-fixture.js';
import { cli } from '../test-support/cli-process.js';

// Every CLI call is a real process; leave room for a loaded machine.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

const hub = new TestHub('sqlite');
const as = (token: string) => ({ GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: token });
const tokensOf = async (token: string) => (await hub.api<{ tokens: TokenInfo[] }>('GET', '/api/v1/tokens', token)).body.tokens;

beforeAll(() => hub.start());
afterAll(() => hub.dispose());

describe('greenlight token, against the same hub as the HTTP API', () => {
  it('creates a pipeline token as the README shows, lists it, and revokes it', async () => {
    const alice = await hub.createUser('alice', ['requester']);
    const created = await cli(['token', 'create', '--name', 'ci', '--scope', 'requests:create', '--scope', 'requests:read', '--expires', '90d'], as(alice.token));
    expect(created.code, created.stderr).toBe(0);
    const pipelineToken = created.stdout.trim();
    expect(pipelineToken).toMatch(/^glt_/);
    expect(created.stderr).toContain('the token is shown only once');
    const me = await hub.api<{ scopes: string[] }>('GET', '/api/v1/me', pipelineToken);
    expect(me.body.scopes).toEqual(['requests:create', 'requests:read']);

    const listed = await cli(['token', 'list', '--json'], as(alice.token));
    expect(JSON.parse(listed.stdout)).toEqual({ tokens: await tokensOf(alice.token) });
    const ci = (await tokensOf(alice.token)).find((token) => token.name === 'ci');
    if (!ci) throw new Error('the ci token should be listed');
    const plain = await cli(['token', 'list'], as(alice.token));
    expect(plain.stdout).toContain(`${ci.id}  ci  api  user: alice  scopes: requests:create,requests:read  expires: ${ci.expiresAt}`);
    expect(plain.stdout).not.toContain(pipelineToken);

    const revoked = await cli(['token', 'revoke', ci.id], as(alice.token));
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`revoked ${ci.id}  ci`);
    expect((await hub.api('GET', '/api/v1/me', pipelineToken)).status).toBe(401);
  });

  it('refuses a scope beyond the role and an expiry beyond a year, in words', async () => {
    const bob = await hub.createUser('bob', ['requester']);
    const beyond = await cli(['token', 'create', '--name', 'x', '--scope', 'audit:read', '--expires', '1d'], as(bob.token));
    expect(beyond.code).toBe(1);
    expect(beyond.stderr).toContain('"audit:read"');
    const tooLong = await cli(['token', 'create', '--name', 'x', '--scope', 'requests:read', '--expires', '400d'], as(bob.token));
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toContain('at most a year');
    const noScope = await cli(['token', 'create', '--name', 'x', '--expires', '1d'], as(bob.token));
    expect(noScope.code).toBe(2);
    expect(noScope.stderr).toContain('--scope');
  });

  it('adds a service user with --service and makes its token with --user', async () => {
    const added = await cli(['user', 'add', 'deploy-bot', '--service', '--json'], as(ADMIN_TOKEN));
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ name: 'deploy-bot', service: true, roles: ['requester'], token: null } satisfies Partial<CreatedUser>);
    const made = await cli(['token', 'create', '--user', 'deploy-bot', '--name', 'ci', '--scope', 'requests:create', '--expires', '30d'], as(ADMIN_TOKEN));
    expect(made.code, made.stderr).toBe(0);
    expect((await hub.api<{ name: string }>('GET', '/api/v1/me', made.stdout.trim())).body.name).toBe('deploy-bot');
    const approver = await cli(['user', 'add', 'approve-bot', '--service', '--role', 'approver'], as(ADMIN_TOKEN));
    expect(approver.code).toBe(2);
    expect(approver.stderr).toContain('never approves');
    const audit = (await hub.api<{ events: AuditEvent[] }>('GET', '/api/v1/audit?type=token.created', ADMIN_TOKEN)).body.events;
    expect(audit.find((event) => event.data.user === 'deploy-bot')).toMatchObject({ actor: 'admin' });
  });
});
