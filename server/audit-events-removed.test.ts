import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAIN_REFUSED } from './readiness.js';
import { capturedLog } from './test-support/captured-log.js';
import { deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

const POLICY = `
rules:
  - { name: staging, match: { environment: staging }, autoApprove: true }
`;

type Ready = { status: string; checks: { auditCheckpoints: string }; warning?: { kind: string; message: string } };

// Someone with write access to the database removes the last events this hub already signed a
// checkpoint for, and moves the chain head back to match.
describe('events this hub signed, removed from the database', () => {
  const log = capturedLog<{ level: number; msg: string; signedSeq?: number }>('info');
  const hub = new TestHub('sqlite', { policy: POLICY, checkpointEveryEvents: 2, checkpointIntervalMs: 60 * 60_000, logger: log.logger });
  let alice: TestUser;
  const submit = async (resource: string) =>
    expect((await hub.api('POST', '/api/v1/requests', alice.token, deployRequest({ resource, environment: 'staging' }))).status).toBe(201);
  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    for (const resource of ['web-1', 'web-2', 'web-3']) await submit(resource);
  });
  afterAll(() => hub.dispose());

  it('are refused, also once new events pass the one it signed, once in the log, with what was signed, while /readyz says the checkpoints are failing', async () => {
    // Twice: a second call joins any attempt the first left queued, so none is in flight below.
    await hub.hub.checkpoints.checkpointer.checkpoint();
    const signed = await hub.hub.checkpoints.checkpointer.checkpoint();
    const signedSeq = signed?.seq ?? (await hub.hub.ctx.store.db.selectFrom('chain_head').select('seq').executeTakeFirstOrThrow()).seq;
    const db = hub.hub.ctx.store.db;
    const kept = await db.selectFrom('audit_events').select(['seq', 'hash']).where('seq', '=', signedSeq - 3).executeTakeFirstOrThrow();
    await db.deleteFrom('audit_events').where('seq', '>', kept.seq).execute();
    await db.deleteFrom('audit_checkpoints').execute();
    await db.updateTable('chain_head').set({ seq: kept.seq, hash: kept.hash }).execute();
    const from = log.lines().length;

    for (let attempt = 0; attempt < 3; attempt += 1) {
      await expect(hub.hub.checkpoints.checkpointer.checkpoint()).rejects.toThrow(`but this hub already signed event ${signedSeq}: events were removed; not signing`);
    }
    // Requests are still decided, and each commit past every-2-events is another attempt. Once new
    // events carry the head past the event it signed, the chain still does not pass through it.
    for (const resource of ['web-4', 'web-5']) await submit(resource);
    await expect(hub.hub.checkpoints.checkpointer.checkpoint()).rejects.toThrow(`the database's audit event ${signedSeq} is not the one this hub signed`);
    const errors = log.lines().slice(from).filter((line) => line.level >= 50);
    expect(errors).toEqual([expect.objectContaining({ msg: expect.stringContaining('not signing audit checkpoints: events this hub signed were removed or changed in the database'), signedSeq })]);
    const readiness = await hub.api<Ready>('GET', '/readyz', null);
    expect(readiness.body).toMatchObject({ checks: { auditCheckpoints: 'failing' }, warning: { message: CHAIN_REFUSED } });
  });

  it('are still refused after a restart: the hub reads what it signed from its checkpoint log', async () => {
    await hub.stop();
    await hub.start();
    await expect(hub.hub.checkpoints.checkpointer.checkpoint()).rejects.toThrow(/is not the one this hub signed .*: events were removed or changed; not signing\. If the database was restored from a backup on purpose/);
    expect((await hub.api<Ready>('GET', '/readyz', null)).body.checks.auditCheckpoints).toBe('failing');
  });
});
