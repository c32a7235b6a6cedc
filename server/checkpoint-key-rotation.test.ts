import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { checkpointKeyId, readCheckpointLog, signCheckpoint } from './domain/checkpoints.js';
import { startHub, type HubOptions, type RunningHub } from './hub.js';
import { ADMIN_TOKEN } from './test-support/hub-fixture.js';
import { sharedTestKeyFiles } from './test-support/test-keys.js';
import { cli } from './test-support/cli-process.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-checkpoint-rotation-'));
const dataDir = path.join(dir, 'data');
const oldKey = path.join(dir, 'keys', 'checkpoint-key-2025.pem');
const newKey = path.join(dir, 'keys', 'checkpoint-key-2026.pem');
const retiredFile = path.join(dir, 'keys', 'retired-checkpoint-keys.pem');

const start = (options: Partial<HubOptions>): Promise<RunningHub> =>
  startHub({
    port: 0,
    dataDir,
    adminToken: ADMIN_TOKEN,
    logLevel: 'silent',
    consoleDir: null,
    print: () => undefined,
    keyEncryptionKeyFile: sharedTestKeyFiles().keyEncryptionKeyFile,
    checkpointEveryEvents: 2,
    ...options,
  });

async function get<T>(hub: RunningHub, route: string): Promise<T> {
  const response = await fetch(`${hub.url}${route}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return (await response.json()) as T;
}

type VerifyAnswer = { ok: true; events: number; checkpoint: { seq: number } | null } | { ok: false; kind: string; problem: string };

describe('rotating the checkpoint key', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('checkpoints the old key signed still verify once its public key is kept as retired, on the hub and offline; without it they are named', async () => {
    // A year of checkpoints under the old key.
    const before = await start({ checkpointKeyFile: oldKey });
    for (const name of ['alice', 'bob', 'carol']) {
      await fetch(`${before.url}/api/v1/users`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name, roles: ['requester'] }) });
    }
    await before.close();
    const oldPublic = createPublicKey(readFileSync(oldKey, 'utf8'));
    const oldKeyId = checkpointKeyId(oldPublic);
    // As the README says: the last event the old key vouched for is the last line of the checkpoint log.
    const lastOld = readCheckpointLog(path.join(dataDir, 'checkpoints.jsonl')).at(-1)!.checkpoint!;
    expect(lastOld.keyId).toBe(oldKeyId);
    writeFileSync(retiredFile, `until-seq: ${lastOld.seq}\n${oldPublic.export({ type: 'spki', format: 'pem' }).toString()}`);

    // The new key signs from now on; the old one's public key is kept as retired.
    const after = await start({ checkpointKeyFile: newKey, retiredCheckpointKeysFile: retiredFile });
    try {
      const published = await get<{ keyId: string; retired: { keyId: string; untilSeq: number }[] }>(after, '/.well-known/greenlight-checkpoint-key');
      expect(published.keyId).not.toBe(oldKeyId);
      expect(published.retired).toEqual([expect.objectContaining({ keyId: oldKeyId, untilSeq: lastOld.seq })]);
      // Events after the rotation, for someone who kept the old key to try to vouch for.
      await fetch(`${after.url}/api/v1/users`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'dave', roles: ['requester'] }) });
      const verified = await get<VerifyAnswer>(after, '/api/v1/audit/verify');
      expect(verified).toMatchObject({ ok: true });
    } finally {
      await after.close();
    }

    const offline = await cli(['audit', 'verify', '--json', '--data-dir', dataDir, '--checkpoint-key', newKey, '--checkpoint-key', retiredFile]);
    expect(offline.code).toBe(0);
    expect(JSON.parse(offline.stdout)).toMatchObject({ ok: true });
    // As the hub's own environment names them, with no flags.
    const fromEnvironment = await cli(['audit', 'verify', '--json', '--data-dir', dataDir], { GREENLIGHT_CHECKPOINT_KEY: newKey, GREENLIGHT_RETIRED_CHECKPOINT_KEYS: retiredFile });
    expect(fromEnvironment.code).toBe(0);
    // The old key given as it was, with no end, beside the one in use: refused rather than trusted for every event.
    const unbounded = await cli(['audit', 'verify', '--json', '--data-dir', dataDir, '--checkpoint-key', newKey, '--checkpoint-key', oldKey]);
    expect(unbounded.code).toBe(2);
    expect(JSON.parse(unbounded.stderr)).toMatchObject({ error: { code: 'USAGE', message: expect.stringContaining('2 of the checkpoint keys given have no "until-seq: N" line') } });
    const newKeyId = checkpointKeyId(createPublicKey(readFileSync(newKey, 'utf8')));
    expect(readCheckpointLog(path.join(dataDir, 'checkpoints.jsonl')).at(-1)?.checkpoint?.keyId).toBe(newKeyId);

    // Whoever kept the old private key signs a checkpoint past its retirement: it does not count.
    const db = new BetterSqlite3(path.join(dataDir, 'greenlight.db'), { readonly: true });
    const past = db.prepare('select seq, hash from audit_events where seq = ?').get(lastOld.seq + 1) as { seq: number; hash: string };
    db.close();
    const forged = signCheckpoint(createPrivateKey(readFileSync(oldKey, 'utf8')), oldPublic, { seq: past.seq, hash: past.hash, at: lastOld.at, hubId: lastOld.hubId, chainId: lastOld.chainId });
    const forgedLog = path.join(dir, 'handed-to-the-auditor.jsonl');
    writeFileSync(forgedLog, `${JSON.stringify(forged)}\n`);
    const refused = await cli(['audit', 'verify', '--json', '--data-dir', dataDir, '--checkpoint-key', newKey, '--checkpoint-key', retiredFile, '--checkpoints', forgedLog]);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ ok: false, kind: 'bad_signature', problem: expect.stringContaining(`retired checkpoint key ${oldKeyId}, which vouches only up to event ${lastOld.seq}`) });

    // Forgetting the retired key: the old checkpoints are named, with the key they claim.
    const forgetful = await start({ checkpointKeyFile: newKey });
    try {
      const verified = await get<VerifyAnswer>(forgetful, '/api/v1/audit/verify');
      expect(verified).toMatchObject({ ok: false, kind: 'bad_signature' });
      expect(verified.ok === false && verified.problem).toContain(`names checkpoint key ${oldKeyId}, none of the keys it was checked against`);
    } finally {
      await forgetful.close();
    }
  });
});
