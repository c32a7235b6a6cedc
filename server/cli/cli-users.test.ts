import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuditEvent, User } from '../../protocol/index.js';
import { ADMIN_TOKEN, TestHub } from '../test-support/hub-fixture.js';
import { cli } from './cli-harness.js';

// Every CLI call is a real process; leave room for a loaded machine.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

/** The CLI against an in-process hub: whatever it prints with --json must be what the HTTP API answers. */
const hub = new TestHub('sqlite');
const admin = () => ({ GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: ADMIN_TOKEN });
const usersOverHttp = async () => (await hub.api<{ users: User[] }>('GET', '/api/v1/users', ADMIN_TOKEN)).body.users;
const userOverHttp = async (name: string) => (await usersOverHttp()).find((user) => user.name === name);

beforeAll(() => hub.start());
afterAll(() => hub.dispose());

describe('greenlight user, against the same hub as the HTTP API', () => {
  it('adds a user with an email; list --json is exactly GET /api/v1/users', async () => {
    const added = await cli(['user', 'add', 'bob', '--role', 'approver', '--group', 'sre', '--email', 'bob@example.com', '--json'], admin());
    expect(added.code, added.stderr).toBe(0);
    const { token, ...created } = JSON.parse(added.stdout) as User & { token: string };
    expect(token).toMatch(/^glt_/);
    expect(created).toEqual(await userOverHttp('bob'));
    expect(added.stderr).toContain('created bob  roles: approver  groups: sre  email: bob@example.com; the token is shown only once');

    const listed = await cli(['user', 'list', '--json'], admin());
    expect(JSON.parse(listed.stdout)).toEqual({ users: await usersOverHttp() });
    const plain = await cli(['user', 'list'], admin());
    expect(plain.stdout).toMatch(/^bob {2}roles: approver {2}groups: sre {2}email: bob@example.com$/m);
  });

  it('sets email, groups and roles as the example in --help shows, then removes the email and every group', async () => {
    const set = await cli(['user', 'set', 'bob', '--email', 'robert@example.com', '--group', 'sre', '--group', 'leads', '--role', 'approver', '--role', 'lead'], admin());
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout.trim()).toBe('updated bob  roles: approver,lead  groups: sre,leads  email: robert@example.com');
    expect(await userOverHttp('bob')).toMatchObject({ email: 'robert@example.com', roles: ['approver', 'lead'], groups: ['sre', 'leads'] });

    const cleared = await cli(['user', 'set', 'bob', '--no-email', '--no-group', '--json'], admin());
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(JSON.parse(cleared.stdout)).toEqual(await userOverHttp('bob'));
    expect(JSON.parse(cleared.stdout)).toMatchObject({ email: null, groups: [], roles: ['approver', 'lead'] });

    const audited = (await hub.api<{ events: AuditEvent[] }>('GET', '/api/v1/audit?type=user.updated', ADMIN_TOKEN)).body.events;
    expect(audited.map((event) => event.data.user)).toEqual(['bob', 'bob']);
  });

  it('disables and enables: the token stops working, then works again', async () => {
    const token = (await cli(['user', 'add', 'carol', '--role', 'requester'], admin())).stdout.trim();
    const disabled = await cli(['user', 'disable', 'carol'], admin());
    expect(disabled.stdout).toContain('disabled carol');
    expect(disabled.stdout).toContain('(disabled)');
    expect((await hub.api('GET', '/api/v1/me', token)).status).toBe(401);
    const enabled = await cli(['user', 'enable', 'carol', '--json'], admin());
    expect(enabled.code, enabled.stderr).toBe(0);
    expect(JSON.parse(enabled.stdout)).toEqual(await userOverHttp('carol'));
    expect(JSON.parse(enabled.stdout)).toMatchObject({ status: 'active' });
    expect((await hub.api('GET', '/api/v1/me', token)).status).toBe(200);
  });

  it('issues a person a new sign-in token: only the new one works, printed alone on stdout', async () => {
    const lost = (await cli(['user', 'add', 'dora', '--role', 'requester'], admin())).stdout.trim();
    const issued = await cli(['user', 'sign-in-token', 'dora'], admin());
    expect(issued.code, issued.stderr).toBe(0);
    expect(issued.stdout.trim()).toMatch(/^glt_\S+$/);
    expect(issued.stderr).toContain('issued dora a new sign-in token');
    expect((await hub.api('GET', '/api/v1/me', lost)).status).toBe(401);
    expect((await hub.api<{ name: string }>('GET', '/api/v1/me', issued.stdout.trim())).body.name).toBe('dora');
  });

  it('reports what the hub refuses with its code, and bad flags before reaching it', async () => {
    const cases: [string[], number, RegExp][] = [
      [['user', 'add', 'greenlight', '--role', 'requester'], 2, /^error: Invalid user: name: "greenlight" and "anonymous" are reserved .+ \(INVALID_INPUT\)$/m],
      [['user', 'set', 'admin', '--role', 'approver'], 1, /^error: You are the last active admin: .+ \(LAST_ADMIN\)$/m],
      [['user', 'disable', 'admin'], 1, /\(LAST_ADMIN\)$/m],
      [['user', 'set', 'nobody', '--role', 'approver'], 1, /^error: No user "nobody"\. \(NOT_FOUND\)$/m],
      [['user', 'set', 'bob'], 2, /^error: nothing to change: give --email, --no-email, --slack-user, --no-slack-user, --role, --group or --no-group$/m],
      [['user', 'set', 'bob', '--email', 'bob-at-example'], 2, /^error: --email: must be an email address/m],
      [['user', 'add', 'dan', '--role', 'requester', '--email', 'nope'], 2, /^error: --email: must be an email address/m],
      [['user', 'set', 'bob', '--role', 'root'], 2, /^error: --role:/m],
      [['user', 'enable', 'bad name'], 2, /^error: <name>: use letters, digits/m],
    ];
    for (const [args, code, message] of cases) {
      const result = await cli(args, admin());
      expect(result.code, args.join(' ')).toBe(code);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
  });
  it('links a Slack member id with --slack-user, refuses one already taken or malformed, and unlinks it', async () => {
    await cli(['user', 'add', 'sam', '--role', 'approver', '--slack-user', 'U0SAM1234'], admin());
    expect(await userOverHttp('sam')).toMatchObject({ slackUserId: 'U0SAM1234' });
    const set = await cli(['user', 'set', 'bob', '--slack-user', 'U0123ABCD'], admin());
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('slack: U0123ABCD');
    expect(await userOverHttp('bob')).toMatchObject({ slackUserId: 'U0123ABCD' });

    const taken = await cli(['user', 'set', 'bob', '--slack-user', 'U0SAM1234'], admin());
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toContain('already belongs to sam');
    const malformed = await cli(['user', 'set', 'bob', '--slack-user', 'bob@slack'], admin());
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('Slack member id');

    const unlinked = await cli(['user', 'set', 'bob', '--no-slack-user'], admin());
    expect(unlinked.code, unlinked.stderr).toBe(0);
    expect(await userOverHttp('bob')).toMatchObject({ slackUserId: null });
    const audit = await hub.api<{ events: AuditEvent[] }>('GET', '/api/v1/audit?type=user.updated&limit=100', ADMIN_TOKEN);
    expect(audit.body.events.map((event) => event.data.changes)).toContainEqual({ slackUserId: { from: 'U0123ABCD', to: null } });
  });
});
