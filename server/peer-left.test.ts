import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pgDriver from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubClient, type GreenlightRequest, type SyncResult } from '../protocol/index.js';
import { ADMIN_TOKEN, collect, deployRequest } from './test-support/hub-fixture.js';
import { eventually } from './test-support/eventually.js';
import { HubProcess } from './test-support/hub-process.js';
import { createTestDatabase, postgresAvailability } from './test-support/postgres.js';

const pg = await postgresAvailability();
const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    escalation:
      - { after: 1h, notify: [leads] }
`;

describe.skipIf(!pg.ok)(`a hub that dies between a commit and its push${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-peer-left-'));
  const policyFile = path.join(dir, 'policy.yaml');
  writeFileSync(policyFile, POLICY);
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let dying: HubProcess, survivor: HubProcess;
  const tokens: Record<string, string> = {};
  const clients: HubClient[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    const args = ['--database-url', database.url, '--policy', policyFile];
    dying = new HubProcess(args, { GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN });
    survivor = new HubProcess(args, { GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN });
    await Promise.all([dying.start(), survivor.start()]);
    for (const [name, roles, groups] of [
      ['alice', ['requester'], []],
      ['bob', ['approver'], ['sre']],
      ['lena', ['lead'], ['leads']],
    ] as const) {
      const response = await fetch(`${dying.url}/api/v1/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, roles, groups }),
      });
      tokens[name] = ((await response.json()) as { token: string }).token;
    }
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all([dying?.stop(), survivor?.stop()]);
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('clients of the surviving hub sync again and find what the dead hub committed but never announced', async () => {
    const lena = new HubClient({ url: survivor.url, token: tokens.lena!, forceNew: true, transports: ['websocket'] });
    clients.push(lena);
    const syncs = collect<SyncResult>((listener) => lena.onSync(listener));
    lena.connect();
    expect((await lena.waitUntilReady()).inbox).toEqual([]);

    const response = await fetch(`${dying.url}/api/v1/requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.alice!}`, 'content-type': 'application/json' },
      body: JSON.stringify(deployRequest({ reason: 'escalated by a hub that then died' })),
    });
    const request = (await response.json()) as GreenlightRequest;
    expect(response.status).toBe(201);
    // What an escalation commits, written as the dying hub would have right before it was killed,
    // with no push after it: the survivor's clients have no way to hear of it but to sync.
    const sql = new pgDriver.Client({ connectionString: database.url });
    await sql.connect();
    try {
      const updated = await sql.query(`update requests set escalation_level = 1, eligible_groups = $1, version = version + 1 where id = $2`, [JSON.stringify(['sre', 'leads']), request.id]);
      expect(updated.rowCount).toBe(1);
    } finally {
      await sql.end();
    }
    await dying.kill();

    // The survivor notices once the dead hub's heartbeats stop (about ten seconds).
    const synced = await syncs.next((result) => result.inbox.some((waiting) => waiting.id === request.id), 30_000);
    expect(synced.inbox.find((waiting) => waiting.id === request.id)?.escalationLevel).toBe(1);
    await eventually(() => lena.state === 'connected', { what: 'lena still connected to the survivor' });
  });
});
