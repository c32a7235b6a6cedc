import { copyFileSync } from 'node:fs';
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
    await hub.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(() => hub.dispose());

  it('copies committed submissions into the database file while the hub keeps running', async () => {
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) => hub.api<{ id: string }>('POST', '/api/v1/requests', alice.token, deployRequest({ reason: `checkpoint ${i}` }))),
    );
    expect(created.every((reply) => reply.status === 201)).toBe(true);

    // What a backup that copies only the database file would hold. Under 1 MB of log: the writer
    // alone would leave all of it in the log until the log passed its threshold.
    const copy = path.join(hub.dataDir, 'backup.db');
    const inFileAlone = () => {
      copyFileSync(file(), copy);
      const reader = new BetterSqlite3(copy);
      try {
        return (reader.prepare("select count(*) as n from requests where reason like 'checkpoint %'").get() as { n: number }).n;
      } finally {
        reader.close();
      }
    };
    await expect.poll(inFileAlone, { timeout: 10_000, interval: 100 }).toBe(20);
  });
});
