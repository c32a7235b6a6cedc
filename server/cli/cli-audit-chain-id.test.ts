import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { hashEvent } from '../store/audit-events.js';
import { GENESIS_HASH } from '../store/migrations.js';
import type { AuditEventsTable } from '../store/schema.js';
import { cli, CliHub } from './cli-harness.js';

// Every step is a real process; leave room for a loaded machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 90_000 });

const hub = new CliHub();
const receiverDir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-receiver-'));
const receiverCopy = path.join(receiverDir, 'checkpoints.jsonl');
const ownLog = () => path.join(hub.dataDir, 'checkpoints.jsonl');
let dev: string;
let sre: string;

async function approved(resource: string): Promise<void> {
  const id = (await cli(['request', '--action', 'deploy', '--resource', resource, '--env', 'production', '--reason', 'chain id test'], hub.as(dev))).stdout.trim();
  expect((await cli(['decide', id, 'approve'], hub.as(sre))).code).toBe(0);
}

const verifyJson = async (args: string[], env: Record<string, string> = {}) => {
  const result = await cli(['audit', 'verify', '--json', ...args], env);
  return { code: result.code, outcome: JSON.parse(result.stdout) as { ok: boolean; kind?: string; problem?: string } };
};

/** With the hub stopped: every approval removed (from the history and the rows), the chain recomputed from genesis, a new chain id, the database's checkpoints deleted. */
function rewriteHistory(): void {
  const database = new BetterSqlite3(path.join(hub.dataDir, 'greenlight.db'));
  try {
    const events = database.prepare('select * from audit_events order by seq').all() as AuditEventsTable[];
    const kept = events.filter((event) => event.type !== 'request.approved' && event.type !== 'grant.issued');
    expect(kept.length).toBeLessThan(events.length);
    let prev = GENESIS_HASH;
    const insert = database.prepare('insert into audit_events (seq, at, actor, type, request_id, action, resource, environment, outcome, data, prev_hash, hash) values (@seq, @at, @actor, @type, @request_id, @action, @resource, @environment, @outcome, @data, @prev_hash, @hash)');
    database.transaction(() => {
      database.prepare('delete from audit_events').run();
      kept.forEach((event, index) => {
        const row = { ...event, seq: index + 1, prev_hash: prev, at: index === 0 ? new Date(Date.parse(event.at) + 1).toISOString() : event.at };
        prev = hashEvent(row);
        insert.run({ ...row, hash: prev });
      });
      database.prepare('delete from audit_checkpoints').run();
      database.prepare("update chain_head set seq = ?, hash = ?, chain_id = 'chn_attacker'").run(kept.length, prev);
      // Thorough: the rows say what the rewritten history says, so only the checkpoints can tell.
      database.prepare('delete from grants').run();
      database.prepare('delete from decisions').run();
      database.prepare("update requests set status = 'pending', decided_by = null, decided_for = null, decided_at = null").run();
    })();
  } finally {
    database.close();
  }
}

beforeAll(async () => {
  await hub.start();
  dev = await hub.addUser('dev', ['requester']);
  sre = await hub.addUser('sre-1', ['approver'], ['sre']);
  for (const resource of ['api', 'ledger', 'web']) await approved(resource);
  expect(await hub.stop()).toBe(0);
  // What a webhook receiver subscribed to audit.checkpoint holds, off the machine.
  copyFileSync(ownLog(), receiverCopy);
  rewriteHistory();
});
afterAll(async () => {
  await hub.dispose();
  rmSync(receiverDir, { recursive: true, force: true });
});

it('a history recomputed under a new chain id fails verify through the restarted hub and offline alike, exit 1', async () => {
  await hub.start();
  expect(await verifyJson([], hub.admin)).toMatchObject({ code: 1, outcome: { ok: false, kind: 'foreign_checkpoints' } });
  const text = await cli(['audit', 'verify'], hub.admin);
  expect(text.code).toBe(1);
  expect(text.stdout).toContain(`none of the`);
  expect(text.stdout).toContain(`from the checkpoint log ${ownLog()} is for this database (chain chn_attacker`);
  expect(await verifyJson(['--checkpoints', receiverCopy], hub.admin)).toMatchObject({ code: 1, outcome: { kind: 'foreign_checkpoints' } });
  expect(await hub.stop()).toBe(0);
  expect(await verifyJson(['--data-dir', hub.dataDir])).toMatchObject({ code: 1, outcome: { kind: 'foreign_checkpoints' } });
  // The hub signed nothing for the new id, at start or at shutdown.
  expect(readFileSync(ownLog(), 'utf8')).not.toContain('chn_attacker');
});

it("when the hub's own log is gone too, the receiver's copy (old checkpoints, then those the hub signed for the new id) still fails online and offline, unless said to be shared", async () => {
  // Someone who also reaches the log's disk: the hub no longer knows which chain it signed, and signs the new one.
  rmSync(ownLog());
  await hub.start();
  await approved('after-restart');
  expect(await hub.stop()).toBe(0);
  await hub.start();
  const signedNow = readFileSync(ownLog(), 'utf8');
  expect(signedNow).toContain('chn_attacker');
  writeFileSync(receiverCopy, readFileSync(receiverCopy, 'utf8') + signedNow);

  expect(await verifyJson([], hub.admin)).toMatchObject({ code: 0, outcome: { ok: true } });
  const online = await verifyJson(['--checkpoints', receiverCopy], hub.admin);
  expect(online).toMatchObject({ code: 1, outcome: { ok: false, kind: 'foreign_checkpoints' } });
  expect(online.outcome.problem).toContain(`${receiverCopy} holds checkpoints of chain chn_`);
  expect(online.outcome.problem).toContain("and after them checkpoints of this database's chain chn_attacker");
  expect(await verifyJson(['--checkpoints', receiverCopy, '--shared-checkpoints'], hub.admin)).toMatchObject({ code: 0, outcome: { ok: true } });
  expect(await hub.stop()).toBe(0);

  const offline = await verifyJson(['--data-dir', hub.dataDir, '--checkpoints', receiverCopy]);
  expect(offline).toMatchObject({ code: 1, outcome: { ok: false, kind: 'foreign_checkpoints' } });
  expect(offline.outcome.problem).toBe(online.outcome.problem);
  expect(await verifyJson(['--data-dir', hub.dataDir, '--checkpoints', receiverCopy, '--shared-checkpoints'])).toMatchObject({ code: 0, outcome: { ok: true } });
});
