import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../store/database.js';
import { createTestDatabase, postgresAvailability } from './postgres.js';

/**
 * The two databases a repository test runs on; PostgreSQL is skipped, with the reason, when none is
 * reachable. `label` names it in a suite's title (`$label`).
 */
export async function storeKinds(): Promise<{ kind: 'SQLite' | 'PostgreSQL'; skip: boolean; label: string }[]> {
  const pg = await postgresAvailability();
  return [
    { kind: 'SQLite', skip: false, label: 'SQLite' },
    { kind: 'PostgreSQL', skip: !pg.ok, label: pg.ok ? 'PostgreSQL' : `PostgreSQL (skipped: ${pg.reason})` },
  ];
}

/** A fresh, migrated store of that kind, and how to remove it afterwards. */
export async function openTestStore(kind: 'SQLite' | 'PostgreSQL'): Promise<{ store: Store; cleanup: () => Promise<void> }> {
  if (kind === 'SQLite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-repository-'));
    const store = await openStore({ dataDir: dir });
    return {
      store,
      cleanup: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const database = await createTestDatabase();
  const store = await openStore({ databaseUrl: database.url });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await database.drop();
    },
  };
}
