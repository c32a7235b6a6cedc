import { statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

const POLICY = `
rules:
  - name: prod-deploys
    match: { action: deploy }
    approvers: [sre]
`;

describe('SQLite write-ahead log checkpointed in the background', () => {
  const hub = new TestHub('sqlite', { policy: POLICY });
  let alice: TestUser;
  const file = () => path.join(hub.dataDir, 'greenlight.db');

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
  });
  afterAll(() => hub.dispose());

  it('copies committed submissions into the database file while the hub keeps running', async () => {
    const before = statSync(file()).size;
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) => hub.api<{ id: string }>('POST', '/api/v1/requests', alice.token, deployRequest({ reason: `checkpoint ${i}` }))),
    );
    expect(created.every((reply) => reply.status === 201)).toBe(true);

    // Under 1 MB of log: the writer alone would leave it all there until the log passed its threshold.
    await expect.poll(() => statSync(file()).size, { timeout: 10_000, interval: 100 }).toBeGreaterThan(before + 32 * 1024);

    // A reader of the file (a backup, an admin's sqlite3 shell) sees every one of them.
    const reader = new BetterSqlite3(file(), { readonly: true });
    try {
      const row = reader.prepare("select count(*) as n from requests where reason like 'checkpoint %'").get() as { n: number };
      expect(row.n).toBe(20);
    } finally {
      reader.close();
    }
  });
});
