import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Selectable } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashEvent } from './domain/audit.js';
import { verifyAudit } from './domain/audit-verify.js';
import { keyInUse, readCheckpointLog, signCheckpoint, type Checkpoint } from './domain/checkpoints.js';
import { GENESIS_HASH } from './store/migrations.js';
import type { AuditEventsTable } from './store/schema.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';
import { sharedTestKeyFiles } from './test-support/test-keys.js';
import { capturedLog } from './test-support/captured-log.js';
import { CHAIN_REFUSED } from './readiness.js';

const POLICY = `
rules:
  - { name: prod, match: { action: deploy }, approvers: [sre], maxPending: 1000 }
`;

type AuditEventRow = Selectable<AuditEventsTable>;
type Verify = { ok: boolean; kind?: string; problem?: string; notes?: string[] };
type Ready = { status: string; checks: { auditCheckpoints: string }; warning?: { kind: string; message: string } };

const pg = await postgresAvailability();
const logOf = (file: string): Checkpoint[] => readCheckpointLog(file).flatMap((line) => (line.checkpoint ? [line.checkpoint] : []));
const keys = () => [keyInUse(createPublicKey(readFileSync(sharedTestKeyFiles().checkpointKeyFile, 'utf8')))];

async function approveSome(hub: TestHub, alice: TestUser, bob: TestUser, count: number, prefix: string): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const created = await hub.api<{ id: string }>('POST', '/api/v1/requests', alice.token, deployRequest({ resource: `${prefix}-${i}` }));
    expect(created.status).toBe(201);
    expect((await hub.api('POST', `/api/v1/requests/${created.body.id}/decisions`, bob.token, { decision: 'approve' })).status).toBe(200);
  }
}

for (const database of ['sqlite', 'postgres'] as const satisfies readonly DatabaseKind[]) {
  const skip = database === 'postgres' && !pg.ok;
  // Someone with write access to the database (not to the checkpoint key, the hub's log or the webhook
  // receiver) removes every approval from the history, recomputes the whole chain from genesis, gives
  // the database a new chain id so the checkpoints outside look like another database's, and deletes
  // the database's checkpoints.
  describe.skipIf(skip)(`a history recomputed under a new chain id, on ${database}${pg.ok || !skip ? '' : ` (skipped: ${pg.reason})`}`, () => {
    const log = capturedLog<{ level: number; msg: string; err?: { message: string }; databaseChainId?: string; signedChainId?: string; checkpointLog?: string }>('info');
    // What the hub logged about its refusal, in whatever words: any line naming the chain it signs.
    const refusalLines = (from = 0) => log.lines().slice(from).filter((line) => line.level >= 50 && JSON.stringify(line).includes(realChainId));
    let linesBeforeRestart = 0;
    const hub = new TestHub(database, { policy: POLICY, checkpointEveryEvents: 3, checkpointIntervalMs: 60 * 60_000, logger: log.logger });
    const receiverDir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-receiver-'));
    const receiverCopy = path.join(receiverDir, 'checkpoints.jsonl');
    const ownLog = () => path.join(hub.dataDir, 'checkpoints.jsonl');
    const db = () => hub.hub.ctx.store.db;
    const verify = async () => (await hub.api<Verify>('GET', '/api/v1/audit/verify', ADMIN_TOKEN)).body;
    let alice: TestUser;
    let bob: TestUser;
    let realChainId: string;
    let original: { events: AuditEventRow[]; head: { seq: number; hash: string } };

    beforeAll(async () => {
      await hub.start();
      bob = await hub.createUser('bob', ['approver'], ['sre']);
      alice = await hub.createUser('alice', ['requester']);
      await approveSome(hub, alice, bob, 4, 'svc');
      await hub.hub.checkpoints.checkpointer.checkpoint();
      expect(await verify()).toMatchObject({ ok: true });
      realChainId = (await db().selectFrom('chain_head').select('chain_id').executeTakeFirstOrThrow()).chain_id ?? '';
      expect(realChainId).toMatch(/^chn_/);
      // What a webhook receiver subscribed to audit.checkpoint holds: every checkpoint, off the machine.
      copyFileSync(ownLog(), receiverCopy);

      const events = await db().selectFrom('audit_events').selectAll().orderBy('seq').execute();
      original = { events, head: await db().selectFrom('chain_head').selectAll().executeTakeFirstOrThrow() };
      const kept = events.filter((event) => event.type !== 'request.approved' && event.type !== 'grant.issued');
      expect(kept.length).toBeLessThan(events.length);
      let prev = GENESIS_HASH;
      const rewritten = kept.map((event, index) => {
        const row = { ...event, seq: index + 1, prev_hash: prev, at: index === 0 ? new Date(Date.parse(event.at) + 1).toISOString() : event.at };
        const hashed = { ...row, hash: hashEvent(row) };
        prev = hashed.hash;
        return hashed;
      });
      await db().deleteFrom('audit_events').execute();
      for (const row of rewritten) await db().insertInto('audit_events').values(row).execute();
      await db().deleteFrom('audit_checkpoints').execute();
      await db().updateTable('chain_head').set({ seq: rewritten.length, hash: prev, chain_id: 'chn_attacker' }).execute();
    });
    afterAll(async () => {
      await hub.dispose();
      rmSync(receiverDir, { recursive: true, force: true });
    });

    it('the hub, through its own checkpoint log, and the log read offline both say foreign_checkpoints, before any restart', async () => {
      const online = await verify();
      expect(online).toMatchObject({ ok: false, kind: 'foreign_checkpoints' });
      expect(online.problem).toContain(`the checkpoint log ${ownLog()}`);
      expect(online.problem).toContain(`the log's last is for chain ${realChainId}`);
      const offline = await verifyAudit(db(), { publicKeys: keys(), outside: [{ source: ownLog(), checkpoints: logOf(ownLog()), shared: false }] });
      expect(offline).toMatchObject({ ok: false, kind: 'foreign_checkpoints' });
    });

    it('restarted, the hub remembers from its log which chain it signs: it signs nothing for the new id, logs why and says so at /readyz while it keeps serving', async () => {
      const signedBefore = logOf(ownLog()).length;
      await hub.stop();
      linesBeforeRestart = log.lines().length;
      await hub.start();
      await expect(hub.hub.checkpoints.checkpointer.checkpoint()).rejects.toThrow(`but this hub signed chain ${realChainId} (its checkpoint log ${ownLog()} ends with event`);
      const readiness = await hub.api<Ready>('GET', '/readyz', null);
      expect(readiness.status).toBe(200);
      expect(readiness.body).toMatchObject({ status: 'ready', checks: { auditCheckpoints: 'failing' }, warning: { kind: 'foreign_checkpoints' } });
      // Anyone may ask /readyz: it says there is a refusal, not the log's path or either chain id.
      expect(readiness.body.warning?.message).toBe(CHAIN_REFUSED);
      expect(readiness.body.warning?.message).not.toContain(realChainId);
      expect(readiness.body.warning?.message).not.toContain(ownLog());
      // Requests are still decided; their events are simply not signed for the forged chain. Each
      // commit past `checkpointEveryEvents` is another attempt to sign, refused like the start's.
      await approveSome(hub, alice, bob, 3, 'after-restart');
      await expect(hub.hub.checkpoints.checkpointer.checkpoint()).rejects.toThrow(/chain id was changed; not signing/);
      // The hub said so in its log once, when it began refusing, with what an admin needs; not at every attempt.
      expect(refusalLines(linesBeforeRestart)).toEqual([
        expect.objectContaining({ level: 50, msg: expect.stringContaining('not signing audit checkpoints'), databaseChainId: 'chn_attacker', signedChainId: realChainId, checkpointLog: ownLog() }),
      ]);
      expect((await hub.api<Ready>('GET', '/readyz', null)).body.checks.auditCheckpoints).toBe('failing');
      expect(logOf(ownLog())).toHaveLength(signedBefore);
      expect(logOf(ownLog()).some((checkpoint) => checkpoint.chainId === 'chn_attacker')).toBe(false);
      expect(await db().selectFrom('audit_checkpoints').selectAll().execute()).toEqual([]);
      expect(await verify()).toMatchObject({ ok: false, kind: 'foreign_checkpoints' });
    });

    it("the receiver's copy, with checkpoints a hub unaware of the change signed for the new id after the old ones, is foreign_checkpoints unless said to be shared, and then the removed approvals still show in the state", async () => {
      // A hub that did not remember its chain (an older one) signed the forged chain at its start.
      const head = await db().selectFrom('chain_head').selectAll().executeTakeFirstOrThrow();
      const keyPem = readFileSync(sharedTestKeyFiles().checkpointKeyFile, 'utf8');
      const forged = signCheckpoint(createPrivateKey(keyPem), createPublicKey(keyPem), { seq: Number(head.seq), hash: head.hash, at: new Date().toISOString(), hubId: 'older-hub', chainId: 'chn_attacker' });
      writeFileSync(receiverCopy, `${readFileSync(receiverCopy, 'utf8')}${JSON.stringify(forged)}\n`);
      await db().insertInto('audit_checkpoints').values({ seq: forged.seq, hash: forged.hash, at: forged.at, hub_id: forged.hubId, chain_id: forged.chainId, key_id: forged.keyId, signature: forged.signature }).execute();
      try {
        const named = await verifyAudit(db(), { publicKeys: keys(), outside: [{ source: receiverCopy, checkpoints: logOf(receiverCopy), shared: false }] });
        expect(named).toMatchObject({ ok: false, kind: 'foreign_checkpoints' });
        expect(named.ok ? '' : named.problem).toContain(`holds checkpoints of chain ${realChainId}`);
        expect(named.ok ? '' : named.problem).toContain('and after them checkpoints of this database\'s chain chn_attacker');
        // An operator who says the log is written by hubs of several databases gets no checkpoint finding;
        // the approvals taken out of the history still show, as rows the log no longer records.
        const shared = await verifyAudit(db(), { publicKeys: keys(), outside: [{ source: receiverCopy, checkpoints: logOf(receiverCopy), shared: true }] });
        expect(shared).toMatchObject({ ok: false, kind: 'state' });
        expect(shared.ok || shared.kind !== 'state' ? [] : shared.findings.map((finding) => finding.table)).toEqual(expect.arrayContaining(['requests', 'grants']));
      } finally {
        await db().deleteFrom('audit_checkpoints').execute();
      }
    });

    it('once the database holds the chain it signed again, the hub signs, says so once, and /readyz is ok', async () => {
      // The history as it was, back from wherever it was kept: its id alone would not do, as the
      // events this hub signed are still rewritten.
      await db().deleteFrom('audit_events').execute();
      for (const row of original.events) await db().insertInto('audit_events').values(row).execute();
      await db().updateTable('chain_head').set({ seq: original.head.seq, hash: original.head.hash, chain_id: realChainId }).execute();
      expect(await hub.hub.checkpoints.checkpointer.checkpoint()).toMatchObject({ chainId: realChainId });
      await approveSome(hub, alice, bob, 1, 'restored');
      await hub.hub.checkpoints.checkpointer.checkpoint();
      expect(log.lines().slice(linesBeforeRestart).filter((line) => line.msg.startsWith('signing audit checkpoints again'))).toEqual([expect.objectContaining({ level: 30 })]);
      expect(refusalLines(linesBeforeRestart)).toHaveLength(1);
      const readiness = (await hub.api<Ready>('GET', '/readyz', null)).body;
      expect(readiness.checks.auditCheckpoints).toBe('ok');
      expect(readiness).not.toHaveProperty('warning');
    });
  });
}

describe('databases whose chain id is legitimately new', () => {
  it('a fresh install with its own log is verified and signed as before; one pointed at another database\'s log is refused until that log is said to be shared', async () => {
    const first = new TestHub('sqlite', { policy: POLICY });
    const fresh = new TestHub('sqlite', { policy: POLICY });
    let reused: TestHub | undefined;
    try {
      await first.start();
      await first.createUser('bob', ['approver'], ['sre']);
      await first.stop();

      await fresh.start();
      await fresh.createUser('bob', ['approver'], ['sre']);
      expect(await fresh.hub.checkpoints.checkpointer.checkpoint()).not.toBeNull();
      expect((await fresh.api<Ready>('GET', '/readyz', null)).body.checks.auditCheckpoints).toBe('ok');
      expect((await fresh.api<Verify>('GET', '/api/v1/audit/verify', ADMIN_TOKEN)).body).toMatchObject({ ok: true, notes: [] });
      const freshLog = path.join(fresh.dataDir, 'checkpoints.jsonl');
      expect(await verifyAudit(fresh.hub.ctx.store.db, { publicKeys: keys(), outside: [{ source: freshLog, checkpoints: logOf(freshLog), shared: false }] })).toMatchObject({ ok: true });

      const firstLog = path.join(first.dataDir, 'checkpoints.jsonl');
      reused = new TestHub('sqlite', { policy: POLICY, checkpointLogFile: firstLog });
      await reused.start();
      await reused.createUser('bob', ['approver'], ['sre']);
      await expect(reused.hub.checkpoints.checkpointer.checkpoint()).rejects.toThrow('give it a checkpoint log of its own (--checkpoint-log, or move the old log aside)');
      expect((await reused.api<Ready>('GET', '/readyz', null)).body).toMatchObject({ status: 'ready', warning: { kind: 'foreign_checkpoints' } });
      expect((await reused.api<Verify>('GET', '/api/v1/audit/verify', ADMIN_TOKEN)).body).toMatchObject({ ok: false, kind: 'foreign_checkpoints' });
      await reused.stop();

      reused = new TestHub('sqlite', { policy: POLICY, checkpointLogFile: firstLog, checkpointLogShared: true });
      await reused.start();
      await reused.createUser('carol', ['approver'], ['sre']);
      expect(await reused.hub.checkpoints.checkpointer.checkpoint()).not.toBeNull();
      expect((await reused.api<Ready>('GET', '/readyz', null)).body).not.toHaveProperty('warning');
      expect((await reused.api<Verify>('GET', '/api/v1/audit/verify', ADMIN_TOKEN)).body).toMatchObject({ ok: true });
    } finally {
      await reused?.dispose();
      await fresh.dispose();
      await first.dispose();
    }
  });

  it('a backup restored into the data directory keeps its chain id: the hub signs it on once its old checkpoint log is moved aside', async () => {
    const hub = new TestHub('sqlite', { policy: POLICY });
    const aside = mkdtempSync(path.join(os.tmpdir(), 'greenlight-backup-'));
    try {
      await hub.start();
      const bob = await hub.createUser('bob', ['approver'], ['sre']);
      const alice = await hub.createUser('alice', ['requester']);
      await hub.stop();
      copyFileSync(path.join(hub.dataDir, 'greenlight.db'), path.join(aside, 'greenlight.db'));
      await hub.start();
      await approveSome(hub, alice, bob, 1, 'lost');
      await hub.stop();
      for (const suffix of ['', '-wal', '-shm']) rmSync(path.join(hub.dataDir, `greenlight.db${suffix}`), { force: true });
      copyFileSync(path.join(aside, 'greenlight.db'), path.join(hub.dataDir, 'greenlight.db'));
      // With the log that vouches for the lost approval still in place, the restore looks like a rewrite.
      await hub.start();
      await approveSome(hub, alice, bob, 1, 'after-restore');
      await expect(hub.hub.checkpoints.checkpointer.checkpoint()).rejects.toThrow(/events were removed or changed; not signing\. If the database was restored from a backup on purpose/);
      await hub.stop();
      renameSync(path.join(hub.dataDir, 'checkpoints.jsonl'), path.join(aside, 'checkpoints.jsonl'));
      await hub.start();
      await approveSome(hub, alice, bob, 1, 'after-restart');
      expect(await hub.hub.checkpoints.checkpointer.checkpoint()).not.toBeNull();
      expect((await hub.api<Ready>('GET', '/readyz', null)).body.checks.auditCheckpoints).toBe('ok');
    } finally {
      await hub.dispose();
      rmSync(aside, { recursive: true, force: true });
    }
  });
});
