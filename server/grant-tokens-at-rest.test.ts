import { existsSync, readFileSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { approvedRequest, collect, deployRequest, startOnOneDatabase, TestHub, type TestUser } from './test-support/hub-fixture.js';
import { listenToHubs } from './test-support/hub-channel.js';
import { postgresAvailability } from './test-support/postgres.js';

const POLICY = `
rules:
  - { name: prod, match: { action: deploy }, approvers: [sre], maxPending: 100 }
`;

/** The part of a grant token only its signer could write: what a search of the database looks for. */
const signatureOf = (token: string) => token.split('.')[2] ?? '';

async function verifiedSubject(hubUrl: string, token: string): Promise<string | undefined> {
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL('/.well-known/jwks.json', hubUrl)));
  return payload.sub;
}

describe('grant tokens in an SQLite database', () => {
  const hub = new TestHub('sqlite', { policy: POLICY });
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(() => hub.dispose());

  it('are in no byte of its files, yet the requester gets a token that verifies', async () => {
    const { token } = await approvedRequest(hub, alice, bob);
    expect(await verifiedSubject(hub.url, token)).toBe('alice');
    const file = hub.hub.ctx.store.location;
    const files = [file, `${file}-wal`].filter(existsSync);
    expect(files).toContain(file);
    for (const each of files) expect(readFileSync(each).includes(signatureOf(token)), `${each} holds the grant token`).toBe(false);
  });

  it('stored in plain by an earlier version are sealed at the next start, used or not, and still reach their requester', async () => {
    const active = await approvedRequest(hub, alice, bob, { resource: 'ledger' });
    const used = await approvedRequest(hub, alice, bob, { resource: 'billing' });
    const { action, resource, environment, context } = deployRequest({ resource: 'billing' });
    // A used token still passes an offline check of its signature: it is sealed too.
    expect((await hub.api('POST', '/api/v1/grants/redeem', null, { token: used.token, payload: { action, resource, environment, context } })).body).toMatchObject({ valid: true });
    await hub.stop();
    const file = new BetterSqlite3(hub.hub.ctx.store.location);
    for (const { id, token } of [active, used]) file.prepare('update grants set token = ? where request_id = ?').run(token, id);
    file.close();
    await hub.start();

    for (const { id, token } of [active, used]) {
      const stored = await hub.hub.ctx.store.db.selectFrom('grants').select('token').where('request_id', '=', id).executeTakeFirstOrThrow();
      expect(stored.token.startsWith('enc:v1:')).toBe(true);
      expect(stored.token).not.toContain(signatureOf(token));
      const view = await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, alice.token);
      expect(view.body.grant?.token).toBe(token);
    }
  });

  it('sealed for one grant and copied to another do not open: the other grant is shown without a token', async () => {
    const first = await approvedRequest(hub, alice, bob, { resource: 'first' });
    const second = await approvedRequest(hub, alice, bob, { resource: 'second' });
    const db = hub.hub.ctx.store.db;
    const sealed = await db.selectFrom('grants').select('token').where('request_id', '=', first.id).executeTakeFirstOrThrow();
    await db.updateTable('grants').set({ token: sealed.token }).where('request_id', '=', second.id).execute();
    const view = await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${second.id}`, alice.token);
    expect(view.body.grant).toMatchObject({ status: 'active' });
    expect(view.body.grant).not.toHaveProperty('token');
  });
});

const postgres = await postgresAvailability();

describe.skipIf(!postgres.ok)(`grant tokens between two hubs on PostgreSQL${postgres.ok ? '' : ` (skipped: ${postgres.reason})`}`, () => {
  const hubA = new TestHub('postgres', { policy: POLICY });
  const hubB = new TestHub('postgres', { policy: POLICY });
  let alice: TestUser;
  let bob: TestUser;
  let listener: Awaited<ReturnType<typeof listenToHubs>>;

  beforeAll(async () => {
    await startOnOneDatabase(hubA, hubB);
    alice = await hubA.createUser('alice', ['requester']);
    bob = await hubA.createUser('bob', ['approver'], ['sre']);
    // Anyone who can connect to the database may listen where the hubs talk to each other.
    listener = await listenToHubs(hubA.databaseUrl ?? '');
  });
  afterAll(async () => {
    await listener?.close();
    await hubB.dispose();
    await hubA.dispose();
  });

  it('reach a requester connected to the other hub, and are in no table nor any message between the hubs', async () => {
    const onB = await hubB.connect(alice);
    const updates = collect<GreenlightRequest>((listen) => onB.on('request:updated', listen));
    // A short message goes by NOTIFY alone; one past 8,000 bytes through the adapter's attachment table.
    const small = await approvedRequest(hubA, alice, bob, { resource: 'small' });
    const large = await approvedRequest(hubA, alice, bob, { resource: 'large', context: { summary: 'a long diff', diff: `+${'x'.repeat(12_000)}\n` } });
    for (const { id, token } of [small, large]) {
      const pushed = await updates.next((update) => update.id === id && update.grant?.token !== undefined);
      expect(pushed.grant?.token).toBe(token);
      expect(await verifiedSubject(hubB.url, token)).toBe('alice');
    }
    const notifications = listener.payloads;
    expect(notifications.length).toBeGreaterThan(0);

    const client = new pg.Client({ connectionString: hubA.databaseUrl });
    await client.connect();
    try {
      const attachments = await client.query<{ n: string }>('select count(*) as n from socket_io_attachments');
      expect(Number(attachments.rows[0]?.n)).toBeGreaterThan(0);
      const tables = await client.query<{ name: string }>(`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`);
      expect(tables.rows.map((row) => row.name)).toEqual(expect.arrayContaining(['grants', 'socket_io_attachments', 'audit_events', 'outbox']));
      for (const { token } of [small, large]) {
        const signature = signatureOf(token);
        // Text columns hold it as written; a bytea column (the attachments) shows it as hex.
        const needles = [signature, Buffer.from(signature).toString('hex')];
        for (const payload of notifications) expect(needles.some((needle) => payload.includes(needle)), 'a notification between the hubs holds a grant token').toBe(false);
        for (const { name } of tables.rows) {
          const rows = await client.query<{ row: string }>(`select t::text as row from "${name}" t`);
          expect(rows.rows.some(({ row }) => needles.some((needle) => row.includes(needle))), `table ${name} holds a grant token`).toBe(false);
        }
      }
    } finally {
      await client.end();
    }
  });
});
