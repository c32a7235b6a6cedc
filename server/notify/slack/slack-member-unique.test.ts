import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, GreenlightRequest, User } from '../../../protocol/index.js';
import { verifyChain } from '../../domain/audit.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../../test-support/hub-fixture.js';
import { postgresAvailability } from '../../test-support/postgres.js';
import { rawDatabase } from '../../test-support/raw-database.js';
import { SlackStandIn } from '../../test-support/slack-stand-in.js';
import { sendToHub, slackForm, slackHeaders } from '../../test-support/slack-person.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
`;
const SIGNING_SECRET = 'slack-signing-secret-for-unique-members';
const pgAvailable = await postgresAvailability();

describe.each(['sqlite', 'postgres'] as const)('one Slack member, one Greenlight user, on %s', (kind) => {
  const skip = kind === 'postgres' && !pgAvailable.ok;
  const slack = new SlackStandIn();
  let hub: TestHub;
  let alice: TestUser;

  beforeAll(async () => {
    if (skip) return;
    await slack.start();
    hub = new TestHub(kind, { policy: POLICY, notifiers: { allowPrivateNetworks: true, slack: { botToken: slack.botToken, signingSecret: SIGNING_SECRET, apiUrl: slack.apiUrl } } });
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    for (const [name, slackUserId] of [['gina', 'U0GINA'], ['hank', 'U0HANK'], ['ivy', 'U0IVY']]) {
      expect((await hub.api('POST', '/api/v1/users', ADMIN_TOKEN, { name, roles: ['approver'], groups: ['sre'], slackUserId })).status).toBe(201);
    }
  });
  afterAll(async () => {
    if (skip) return;
    await hub.dispose();
    await slack.close();
  });

  const usersNamed = async (name: string) => (await hub.api<{ users: User[] }>('GET', '/api/v1/users', ADMIN_TOKEN)).body.users.filter((user) => user.name === name);
  const slackIdOf = async (name: string) => (await usersNamed(name))[0]?.slackUserId;
  const submit = async () => (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ risk: 'low' }))).body;
  const statusOf = async (id: string) => (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, ADMIN_TOKEN)).body.status;
  /** Clicks Approve in Slack as `slackUserId`; returns what Slack was told to show that person. */
  let clicks = 0;
  const approveInSlack = async (slackUserId: string, requestId: string): Promise<string[]> => {
    const before = slack.callsOf('chat.postEphemeral').length;
    // Each click is its own payload: the hub refuses a signature it has seen as a replay.
    clicks += 1;
    const body = slackForm({ type: 'block_actions', user: { id: slackUserId }, trigger_id: `t${clicks}`, channel: { id: 'C1' }, actions: [{ action_id: 'greenlight_approve', value: requestId }] });
    expect((await sendToHub(hub.url, body, slackHeaders(SIGNING_SECRET, body, Math.floor(Date.now() / 1000)))).status).toBe(200);
    return slack.callsOf('chat.postEphemeral').slice(before).map((call) => String(call.args.text));
  };

  it.skipIf(skip)('refuses a member id another user holds, naming them, on create and on change; the database refuses it too', async () => {
    const changed = await hub.api<{ error: { code: string; message: string } }>('PATCH', '/api/v1/users/hank', ADMIN_TOKEN, { slackUserId: 'U0GINA' });
    expect(changed).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT', message: 'The Slack member U0GINA already belongs to gina; remove it there first.' } } });
    const created = await hub.api<{ error: { code: string; message: string } }>('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'jo', roles: ['approver'], slackUserId: 'U0GINA' });
    expect(created).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    expect(await usersNamed('jo')).toEqual([]);
    expect(await slackIdOf('hank')).toBe('U0HANK');

    // Past the API, as anything writing the table directly would be.
    const raw = rawDatabase(hub);
    try {
      await expect(raw.updateTable('users').set({ slack_user_id: 'U0GINA' }).where('name', '=', 'hank').execute()).rejects.toThrow(/unique/i);
    } finally {
      await raw.destroy();
    }
    expect(await slackIdOf('hank')).toBe('U0HANK');
  });

  it.skipIf(skip)('an upgrade unlinks a member an older database linked to two users from both, says so in the audit log, and the hub starts', async () => {
    await hub.stop();
    const raw = rawDatabase(hub);
    try {
      // The database as a hub from before the unique index left it (so without what later migrations made), with a member linked twice.
      await raw.deleteFrom('greenlight_migrations' as never).where(sql.ref('name'), '>=', '2026-12-15-101-unique-slack-members').execute();
      await sql`drop table exclusive_claims`.execute(raw);
      await sql`alter table break_glass_reviews drop column reviewed_for`.execute(raw);
      await sql`drop index deadlines_by_delegation`.execute(raw);
      await sql`alter table deadlines drop column delegation_id`.execute(raw);
      await sql`alter table email_actions drop column on_behalf_of`.execute(raw);
      await sql`alter table requests drop column decided_for`.execute(raw);
      await sql`drop index audit_by_type`.execute(raw);
      await sql`drop index users_slack_user_id`.execute(raw);
      await sql`create index users_slack_user_id on users (slack_user_id)`.execute(raw);
      await raw.updateTable('users').set({ slack_user_id: 'U0GINA' }).where('name', '=', 'hank').execute();
    } finally {
      await raw.destroy();
    }
    await hub.start();

    expect([await slackIdOf('gina'), await slackIdOf('hank'), await slackIdOf('ivy')]).toEqual([null, null, 'U0IVY']);
    const audit = await hub.api<{ events: AuditEvent[] }>('GET', '/api/v1/audit?type=user.updated&limit=100', ADMIN_TOKEN);
    const unlinked = audit.body.events.filter((event) => event.data.source === 'upgrade');
    expect(unlinked.map((event) => [event.actor, event.data.user, event.data.changes])).toEqual(
      expect.arrayContaining([
        ['greenlight', 'gina', { slackUserId: { from: 'U0GINA', to: null } }],
        ['greenlight', 'hank', { slackUserId: { from: 'U0GINA', to: null } }],
      ]),
    );
    expect(unlinked).toHaveLength(2);
    expect(unlinked[0]?.data.reason).toContain('linked to gina, hank');
    expect(await verifyChain(hub.hub.ctx.store.db)).toMatchObject({ ok: true });
    // The unlinking is a change verify replays: both rows agree with their latest events.
    expect((await hub.api('GET', '/api/v1/audit/verify', ADMIN_TOKEN)).body).toMatchObject({ ok: true });

    const request = await submit();
    expect((await approveInSlack('U0GINA', request.id)).join('\n')).toContain('not linked to a Greenlight user');
    expect(await statusOf(request.id)).toBe('pending');

    // Linked again to the one it belongs to, it is theirs alone.
    expect((await hub.api('PATCH', '/api/v1/users/gina', ADMIN_TOKEN, { slackUserId: 'U0GINA' })).status).toBe(200);
    expect((await hub.api('PATCH', '/api/v1/users/hank', ADMIN_TOKEN, { slackUserId: 'U0GINA' })).status).toBe(409);
    expect(await approveInSlack('U0GINA', request.id)).toEqual([]);
    expect(await statusOf(request.id)).toBe('approved');
  });

  it.skipIf(skip)('a click from a member linked to two users decides nothing, whatever the database holds', async () => {
    const raw = rawDatabase(hub);
    try {
      // A hand edit past the index: the hub must still not pick one of them.
      await sql`drop index users_slack_user_id`.execute(raw);
      await raw.updateTable('users').set({ slack_user_id: 'U0IVY' }).where('name', '=', 'hank').execute();
    } finally {
      await raw.destroy();
    }
    const request = await submit();
    expect(await approveInSlack('U0IVY', request.id)).toEqual([
      'Your Slack account is linked to more than one Greenlight user (hank, ivy), so this click did nothing: it cannot say which of them decided. Ask a Greenlight admin to keep the link on one of them.',
    ]);
    expect(await statusOf(request.id)).toBe('pending');
  });
});
