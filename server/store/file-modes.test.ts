import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from './database.js';

const modeOf = (file: string) => statSync(file).mode & 0o777;

describe('the SQLite files, which hold the grant-signing key and token hashes', () => {
  const dirs: string[] = [];
  const stores: Store[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  /** A data directory made by an installer, open to everyone on the machine. */
  const openDataDir = () => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'greenlight-modes-')), 'data');
    dirs.push(path.dirname(dir));
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    return dir;
  };

  it('are created readable by the hub’s user only, write-ahead log and backups included', async () => {
    const dataDir = openDataDir();
    const store = await openStore({ dataDir });
    stores.push(store);
    expect(modeOf(path.join(dataDir, 'greenlight.db'))).toBe(0o600);
    expect(modeOf(path.join(dataDir, 'greenlight.db-wal'))).toBe(0o600);
    const backup = path.join(dataDir, 'copy.db');
    await store.backupTo?.(backup);
    expect(modeOf(backup)).toBe(0o600);
  });

  it('keep the mode an operator gave an existing database', async () => {
    const dataDir = openDataDir();
    const file = path.join(dataDir, 'greenlight.db');
    writeFileSync(file, '');
    chmodSync(file, 0o640);
    stores.push(await openStore({ dataDir }));
    expect(modeOf(file)).toBe(0o640);
  });
});
