import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { audit, inTransaction } from './domain/context.js';
import type { StateFinding } from './domain/state-check/compare.js';
import type { RequestsTable } from './store/schema.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const POLICY = `
rules:
  - { name: prod, match: { action: deploy }, approvers: [sre], grantTtl: 30m }
  - { name: logs, match: { action: read-logs }, autoApprove: true }
`;

type Verify = { ok: boolean; kind?: string; findings?: StateFinding[] };
const pg = await postgresAvailability();

// What a request asked for (its action, resource, environment, reason, risk, rule and requester) is in
// its request.submitted event, and what an approver saw (with its context) is hashed into its grant:
// a row changed afterwards would have the console show something other than what was approved.
describe.each<DatabaseKind>(['sqlite', 'postgres'])('audit verify holds what a request asked for against its submission, on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const hub = new TestHub(kind, { policy: POLICY });
  let alice: TestUser, bob: TestUser;
  const db = () => hub.hub.ctx.store.db;
  const verify = async () => (await hub.api<Verify>('GET', '/api/v1/audit/verify', ADMIN_TOKEN)).body;
  const findingsOf = (found: Verify, requestId: string) => (found.findings ?? []).filter((finding) => finding.requestId === requestId);
  const approved = async (overrides: Record<string, unknown>) => {
    const submitted = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest(overrides))).body;
    return (await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${submitted.id}/decisions`, bob.token, { decision: 'approve' })).body;
  };
  /** Changes one request row, runs verify, and puts the row back. */
  const withRow = async (id: string, changes: Partial<RequestsTable>): Promise<StateFinding[]> => {
    const original = await db().selectFrom('requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    await db().updateTable('requests').set(changes).where('id', '=', id).execute();
    try {
      return findingsOf(await verify(), id);
    } finally {
      await db().updateTable('requests').set(original).where('id', '=', id).execute();
    }
  };

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    await hub.createUser('mallory', ['requester']);
  });
  afterAll(() => hub.dispose());

  it('a resource, action, environment, reason, risk, requester or rule changed after approval is named with what the submission said', async () => {
    const request = await approved({ resource: 'payments-api' });
    expect((await verify()).ok).toBe(true);
    const cases: [keyof RequestsTable, string, string][] = [
      ['resource', 'billing-db', 'payments-api'],
      ['action', 'read-logs', 'deploy'],
      ['environment', 'staging', 'production'],
      ['reason', 'routine', 'hotfix for INC-4412'],
      ['risk', 'low', 'high'],
      ['requester_name', 'mallory', 'alice'],
    ];
    for (const [field, state, log] of cases) {
      const found = await withRow(request.id, { [field]: state });
      expect(found, field).toEqual(
        expect.arrayContaining([expect.objectContaining({ reason: 'state_disagrees', table: 'requests', requestId: request.id, field, state, log, problem: `request ${request.id}: ${field} is "${state}" but its audit events say "${log}"` })]),
      );
    }
    const row = await db().selectFrom('requests').select('rule').where('id', '=', request.id).executeTakeFirstOrThrow();
    const otherRule = JSON.stringify({ ...(JSON.parse(row.rule) as object), name: 'logs', autoApprove: true });
    expect(await withRow(request.id, { rule: otherRule })).toEqual([expect.objectContaining({ reason: 'state_disagrees', table: 'requests', field: 'rule', state: 'logs', log: 'prod' })]);
    expect(await withRow(request.id, { extends_jti: 'gnt_forged' })).toEqual([expect.objectContaining({ reason: 'state_disagrees', table: 'requests', field: 'extends_jti', state: 'gnt_forged', log: null })]);
    expect((await verify()).ok).toBe(true);
  });

  it('a context changed after approval no longer hashes to what its grant was issued for; a grant row given another payload hash is named too', async () => {
    const request = await approved({ resource: 'context' });
    const row = await db().selectFrom('requests').select('context').where('id', '=', request.id).executeTakeFirstOrThrow();
    const grant = await db().selectFrom('grants').select('payload_hash').where('jti', '=', request.grant!.jti).executeTakeFirstOrThrow();
    const otherContext = JSON.stringify({ ...(JSON.parse(row.context) as object), summary: 'roll out 2.4.2' });
    const found = await withRow(request.id, { context: otherContext });
    expect(found).toEqual([
      expect.objectContaining({ reason: 'state_disagrees', table: 'requests', requestId: request.id, field: 'payload_hash', log: grant.payload_hash, problem: expect.stringContaining(`its grant ${request.grant!.jti} was issued for "${grant.payload_hash}": they were changed after approval`) }),
    ]);
    expect(found[0]!.state).not.toBe(grant.payload_hash);

    const grantRow = () => db().updateTable('grants').where('jti', '=', request.grant!.jti);
    await grantRow().set({ payload_hash: 'f'.repeat(64) }).execute();
    try {
      expect(findingsOf(await verify(), request.id)).toEqual(
        expect.arrayContaining([expect.objectContaining({ reason: 'state_disagrees', table: 'grants', jti: request.grant!.jti, field: 'payload_hash', state: 'f'.repeat(64), log: grant.payload_hash })]),
      );
    } finally {
      await grantRow().set({ payload_hash: grant.payload_hash }).execute();
    }
    expect((await verify()).ok).toBe(true);
  });

  it('a submission an older hub logged with fewer fields is held against only those it has', async () => {
    const request = await approved({ resource: 'older' });
    const original = await db().selectFrom('requests').selectAll().where('id', '=', request.id).executeTakeFirstOrThrow();
    const id = 'req_older_submission';
    await db().insertInto('requests').values({ ...original, id, idempotency_key: null, status: 'pending', decided_at: null, decided_by: null, decided_for: null, reason: 'not in its event' }).execute();
    const ctx = hub.hub.ctx;
    await inTransaction(ctx, (trx) => audit(ctx, trx, { actor: 'alice', type: 'request.submitted', requestId: id, action: 'deploy', resource: 'older', environment: 'production', outcome: 'pending', data: {} }));
    expect(findingsOf(await verify(), id)).toEqual([]);
  });
});
