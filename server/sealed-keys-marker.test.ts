import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openStore } from './store/database.js';
import { decryptPrivateKey, isEncrypted } from './keys/key-encryption.js';
import { TestHub } from './test-support/hub-fixture.js';
import { capturedLog } from './test-support/captured-log.js';
import { makeUnwritable } from './test-support/unwritable-folder.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const POLICY = `
rules:
  - { name: staging, match: { action: deploy, environment: staging }, autoApprove: true, grantTtl: 1h }
`;

type Line = { level: number; msg: string; keys?: number; marker?: string };

/** A hub's signing keys, read as someone with the database file does. */
async function storedKeys(hub: TestHub): Promise<{ kid: string; private_jwk: string }[]> {
  const store = await openStore({ dataDir: hub.dataDir });
  try {
    return await store.db.selectFrom('signing_keys').select(['kid', 'private_jwk']).execute();
  } finally {
    await store.close();
  }
}

describe('the marker beside the key-encryption key that says it holds sealed signing keys', () => {
  let keyDir: string;
  let kekFile: string;
  let hub: TestHub;
  let undo: (() => void) | null = null;
  const log = capturedLog<Line>('info');

  afterEach(async () => {
    undo?.();
    undo = null;
    await hub.dispose();
    rmSync(keyDir, { recursive: true, force: true });
  });

  /** A database as a hub from before keys were encrypted left it: its keys in plain text, and no marker beside the key file. */
  async function databaseBeforeEncryption(): Promise<string> {
    keyDir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-kek-'));
    kekFile = path.join(keyDir, 'key-encryption-key');
    hub = new TestHub('sqlite', { policy: POLICY, keyEncryptionKeyFile: kekFile, logger: log.logger });
    await hub.start();
    await hub.stop();
    const kek = Buffer.from(readFileSync(kekFile, 'utf8').trim(), 'base64');
    const store = await openStore({ dataDir: hub.dataDir });
    let plain = '';
    try {
      for (const row of await store.db.selectFrom('signing_keys').select(['kid', 'private_jwk']).execute()) {
        plain = decryptPrivateKey(kek, row.kid, row.private_jwk) ?? '';
        await store.db.updateTable('signing_keys').set({ private_jwk: plain }).where('kid', '=', row.kid).execute();
      }
    } finally {
      await store.close();
    }
    rmSync(`${kekFile}.sealed`);
    return plain;
  }

  it('an upgrade that seals plain-text keys for the first time says so in one info line: how many, and the marker written, never the key', async () => {
    const plain = await databaseBeforeEncryption();
    const from = log.lines().length;
    await hub.start();

    expect((await storedKeys(hub)).map((row) => isEncrypted(row.private_jwk))).toEqual([true]);
    expect(existsSync(`${kekFile}.sealed`)).toBe(true);
    const said = log.lines().slice(from).filter((line) => line.msg.includes('stored in plain text'));
    expect(said).toEqual([expect.objectContaining({ level: 30, keys: 1, marker: `${kekFile}.sealed`, msg: expect.stringContaining(`sealed 1 grant signing key an older hub stored in plain text, and wrote ${kekFile}.sealed`) })]);
    const secret = (JSON.parse(plain) as { d: string }).d;
    expect(log.lines().some((line) => JSON.stringify(line).includes(secret))).toBe(false);

    // The next start seals nothing and says nothing of it.
    await hub.stop();
    const again = log.lines().length;
    await hub.start();
    expect(log.lines().slice(again).filter((line) => line.msg.includes('stored in plain text'))).toEqual([]);
  });

  it('an upgrade whose key folder is read-only seals nothing and does not start, naming the folder; once it may write there it seals the keys', async () => {
    await databaseBeforeEncryption();
    undo = makeUnwritable(keyDir);

    const refused = hub.start();
    await expect(refused).rejects.toThrow(`cannot write ${kekFile}.sealed`);
    await expect(refused).rejects.toThrow(`Let the hub's user write to ${keyDir} for this start`);
    expect((await storedKeys(hub)).map((row) => isEncrypted(row.private_jwk))).toEqual([false]);

    undo();
    undo = null;
    await hub.start();
    expect((await storedKeys(hub)).map((row) => isEncrypted(row.private_jwk))).toEqual([true]);
    expect(existsSync(`${kekFile}.sealed`)).toBe(true);
  });

  it('a hub whose key folder is read-only and holds no marker does not start, naming the folder; a marker put there by hand (empty) lets it start', async () => {
    keyDir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-kek-'));
    kekFile = path.join(keyDir, 'key-encryption-key');
    hub = new TestHub('sqlite', { policy: POLICY, keyEncryptionKeyFile: kekFile, logger: log.logger });
    await hub.start();
    await hub.stop();
    rmSync(`${kekFile}.sealed`);
    undo = makeUnwritable(keyDir);

    const refused = hub.start();
    await expect(refused).rejects.toThrow(`cannot write ${kekFile}.sealed`);
    await expect(refused).rejects.toThrow(`Let the hub's user write to ${keyDir}, or create that file yourself (empty will do`);

    // What an operator does on a read-only key volume: the file added there, empty.
    undo();
    writeFileSync(`${kekFile}.sealed`, '');
    undo = makeUnwritable(keyDir);
    await hub.start();
    expect((await storedKeys(hub)).map((row) => isEncrypted(row.private_jwk))).toEqual([true]);
  });
});
