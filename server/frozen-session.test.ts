import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';
import { eventually } from './test-support/eventually.js';
import { postgresAvailability } from './test-support/postgres.js';

const pgUp = await postgresAvailability();
const POLICY = `
rules:
  - { name: prod, match: { action: deploy }, approvers: [sre] }
`;

// Every write takes the audit chain's head first. The raw session below stands in for a hub frozen
// (paused, or cut off by the network) with that lock held: the database must end it, not every
// other hub wait for it for as long as its connection lives.
describe.skipIf(!pgUp.ok)(`a session frozen inside a transaction on PostgreSQL${pgUp.ok ? '' : ` (skipped: ${pgUp.reason})`}`, () => {
  const hub = new TestHub('postgres', { policy: POLICY, idleInTransactionTimeout: '1s' });
  let alice: TestUser;
  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(() => hub.dispose());

  it('is ended by the database, so the hub’s writes go through instead of waiting on it', async () => {
    const frozen = new pg.Client({ connectionString: hub.databaseUrl });
    const ended = new Promise<Error>((resolve) => frozen.on('error', resolve));
    await frozen.connect();
    await frozen.query('begin');
    await frozen.query('select seq from chain_head where id = 1 for update');

    const submitted = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest());
    expect(submitted.status).toBe(201);
    expect((await ended).message).toMatch(/idle-in-transaction timeout/);
    const settings = await eventually(async () => {
      const probe = new pg.Client({ connectionString: hub.databaseUrl });
      await probe.connect();
      try {
        return (await probe.query<{ idle_in_transaction_session_timeout: string }>('show idle_in_transaction_session_timeout')).rows[0];
      } finally {
        await probe.end();
      }
    }, { what: 'the database default' });
    expect(settings?.idle_in_transaction_session_timeout).toBe('1s');
    await frozen.end().catch(() => undefined);
  });
});
