import { copyFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ADMIN_TOKEN, TestHub } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';
import { capturedLog } from './test-support/captured-log.js';
import { CHAIN_UNANCHORED } from './readiness.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const pg = await postgresAvailability();

const POLICY = `
rules:
  - { name: prod, match: { action: deploy }, approvers: [sre] }
`;

type Ready = { status: string; checks: { auditCheckpoints: string }; warning?: { kind: string; message: string } };
type Line = { level: number; msg: string };

const readiness = async (hub: TestHub) => (await hub.api<Ready>('GET', '/readyz', null)).body;
const ownLog = (hub: TestHub) => path.join(hub.dataDir, 'checkpoints.jsonl');
const unanchoredWarnings = (lines: Line[]) => lines.filter((line) => line.level === 40 && line.msg.includes('holds no checkpoint signed with this hub\'s checkpoint key'));

/** What someone with the database does once a hub can't remember its chain: a new chain id, the database's checkpoints gone. */
async function changeChainId(hub: TestHub): Promise<void> {
  const db = hub.hub.ctx.store.db;
  await db.deleteFrom('audit_checkpoints').execute();
  await db.updateTable('chain_head').set({ chain_id: 'chn_attacker' }).execute();
}

describe.skipIf(!pg.ok)(`a hub added to a PostgreSQL database that other hubs already sign${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const hubs: TestHub[] = [];
  afterEach(async () => {
    for (const hub of hubs.splice(0).reverse()) await hub.dispose();
  });

  async function firstHub(): Promise<TestHub> {
    const log = capturedLog<Line>('warn');
    const first = new TestHub('postgres', { policy: POLICY, logger: log.logger });
    hubs.push(first);
    await first.start();
    await first.createUser('bob', ['approver'], ['sre']);
    await first.hub.checkpoints.checkpointer.checkpoint();
    // A new database has nothing to remember yet: its first checkpoint is the memory.
    expect(unanchoredWarnings(log.lines())).toEqual([]);
    expect(await readiness(first)).not.toHaveProperty('warning');
    return first;
  }

  it('with a checkpoint log of its own, empty, says at start it has nothing to anchor the chain to: a warning naming the log, and /readyz without the path', async () => {
    const first = await firstHub();
    const log = capturedLog<Line>('warn');
    const second = new TestHub('postgres', { policy: POLICY, logger: log.logger });
    hubs.push(second);
    second.databaseUrl = first.databaseUrl;
    // Before it starts, someone with the database gives the chain a new id.
    await changeChainId(first);
    await second.start();

    const warnings = unanchoredWarnings(log.lines());
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toContain(ownLog(second));
    expect(warnings[0]?.msg).toContain('copy one\'s checkpoint log');
    const ready = await readiness(second);
    expect(ready).toMatchObject({ status: 'ready', checks: { auditCheckpoints: 'ok' }, warning: { kind: 'unanchored_chain', message: CHAIN_UNANCHORED } });
    expect(ready.warning?.message).not.toContain(second.dataDir);
    // What the warning is about: the new hub signs the changed chain; the one that remembers refuses it.
    await second.hub.checkpoints.checkpointer.checkpoint();
    expect((await second.hub.ctx.store.db.selectFrom('audit_checkpoints').select('chain_id').execute()).map((row) => row.chain_id)).toContain('chn_attacker');
    await expect(first.hub.checkpoints.checkpointer.checkpoint()).rejects.toThrow(/chain id was changed; not signing/);
  });

  it('given a copy of another hub\'s checkpoint log, as the README says, it starts without that warning and refuses a chain id changed before it started', async () => {
    const first = await firstHub();
    const log = capturedLog<Line>('warn');
    const second = new TestHub('postgres', { policy: POLICY, logger: log.logger });
    hubs.push(second);
    second.databaseUrl = first.databaseUrl;
    copyFileSync(ownLog(first), ownLog(second));
    await changeChainId(first);
    await second.start();

    expect(unanchoredWarnings(log.lines())).toEqual([]);
    await expect(second.hub.checkpoints.checkpointer.checkpoint()).rejects.toThrow(/chain id was changed; not signing/);
    expect(await readiness(second)).toMatchObject({ warning: { kind: 'foreign_checkpoints' } });
    expect(await second.hub.ctx.store.db.selectFrom('audit_checkpoints').selectAll().execute()).toEqual([]);
  });
});

describe('a hub whose checkpoint log was deleted', () => {
  it('warns at the next start, and again only while its log holds nothing it signed', async () => {
    const log = capturedLog<Line>('warn');
    const hub = new TestHub('sqlite', { policy: POLICY, logger: log.logger });
    try {
      await hub.start();
      await hub.createUser('bob', ['approver'], ['sre']);
      await hub.stop();
      expect(unanchoredWarnings(log.lines())).toEqual([]);

      rmSync(ownLog(hub));
      await hub.start();
      expect(unanchoredWarnings(log.lines())).toHaveLength(1);
      expect((await readiness(hub)).warning?.kind).toBe('unanchored_chain');
      expect((await hub.api<{ ok: boolean }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN)).body.ok).toBe(true);
      await hub.stop();

      // It signed at start and at shutdown: from its log it now knows a chain again (whichever the database held).
      await hub.start();
      expect(unanchoredWarnings(log.lines())).toHaveLength(1);
      expect(await readiness(hub)).not.toHaveProperty('warning');
    } finally {
      await hub.dispose();
    }
  });
});
