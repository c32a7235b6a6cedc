import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import type { StateFinding } from './domain/state-check/compare.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const POLICY = `
rules:
  - { name: prod, match: { action: deploy }, approvers: [sre], grantTtl: 30m }
`;

type Verify = { ok: boolean; kind?: string; findings?: StateFinding[] };
const pg = await postgresAvailability();

// Verify replays the log a page of rows at a time, each page from its own requests' events: a grant
// row moved to another request, or a request deleted, is found from the issue and submit events.
describe.each<DatabaseKind>(['sqlite', 'postgres'])('audit verify, replaying a page of rows at a time, on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const hub = new TestHub(kind, { policy: POLICY });
  let alice: TestUser, bob: TestUser;
  const db = () => hub.hub.ctx.store.db;
  const verify = async () => (await hub.api<Verify>('GET', '/api/v1/audit/verify', ADMIN_TOKEN)).body;
  const submit = async (resource: string) => (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ resource }))).body;
  const approve = async (id: string) => (await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${id}/decisions`, bob.token, { decision: 'approve' })).body;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(() => hub.dispose());

  it('a grant row moved to another request is named by its request_id, against the request that issued it', async () => {
    const approved = await approve((await submit('moved')).id);
    const other = await submit('elsewhere');
    const jti = approved.grant!.jti;
    expect((await verify()).ok).toBe(true);
    await db().updateTable('grants').set({ request_id: other.id }).where('jti', '=', jti).execute();
    try {
      const found = await verify();
      expect(found.kind).toBe('state');
      expect(found.findings).toEqual([expect.objectContaining({ reason: 'state_disagrees', table: 'grants', jti, requestId: other.id, field: 'request_id', state: other.id, log: approved.id })]);
    } finally {
      await db().updateTable('grants').set({ request_id: approved.id }).where('jti', '=', jti).execute();
    }
  });

  it('a request deleted with its grant is named missing, and so is its grant, as the log left them', async () => {
    const approved = await approve((await submit('deleted')).id);
    const jti = approved.grant!.jti;
    const request = await db().selectFrom('requests').selectAll().where('id', '=', approved.id).executeTakeFirstOrThrow();
    const grant = await db().selectFrom('grants').selectAll().where('jti', '=', jti).executeTakeFirstOrThrow();
    const decisions = await db().selectFrom('decisions').selectAll().where('request_id', '=', approved.id).execute();
    await db().deleteFrom('grants').where('jti', '=', jti).execute();
    await db().deleteFrom('decisions').where('request_id', '=', approved.id).execute();
    await db().deleteFrom('requests').where('id', '=', approved.id).execute();
    try {
      const found = await verify();
      expect(found.findings).toEqual([
        expect.objectContaining({ reason: 'state_missing', table: 'requests', requestId: approved.id, problem: expect.stringContaining('(approved by its audit events)') }),
        expect.objectContaining({ reason: 'state_missing', table: 'grants', requestId: approved.id, jti, problem: expect.stringContaining('(active by its audit events)') }),
      ]);
    } finally {
      await db().insertInto('requests').values(request).execute();
      if (decisions.length > 0) await db().insertInto('decisions').values(decisions).execute();
      await db().insertInto('grants').values(grant).execute();
    }
    expect((await verify()).ok).toBe(true);
  });
});
