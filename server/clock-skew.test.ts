import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubClient, type GreenlightRequest, type SetupStatus } from '../protocol/index.js';
import { ADMIN_TOKEN, collect, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';
import { HubProcess } from './test-support/hub-process.js';
import { listenToHubs, sendOnHubChannel } from './test-support/hub-channel.js';
import { shiftedClockEnv } from './test-support/shifted-clock.js';
import { sharedTestKeyFiles } from './test-support/test-keys.js';
import { postgresAvailability } from './test-support/postgres.js';
import { readDatabaseTime } from './database-clock.js';
import { PeerSignature } from './transport/peer-signature.js';

const POLICY = `
rules:
  - { name: prod, match: { action: deploy }, approvers: [sre], maxPending: 100 }
`;
const FIVE_MINUTES = 300_000;
const TWO_MINUTES = 120_000;

const postgres = await postgresAvailability();

/**
 * Hub B runs in a process whose system clock is 5 minutes ahead (its `Date` shifted, as on a host
 * without NTP or a virtual machine after a suspend); hub A and PostgreSQL run on the right time.
 */
describe.skipIf(!postgres.ok)(`two hubs on one PostgreSQL database whose system clocks are 5 minutes apart${postgres.ok ? '' : ` (skipped: ${postgres.reason})`}`, () => {
  const hubA = new TestHub('postgres', { policy: POLICY });
  let hubB: HubProcess;
  let alice: TestUser, bob: TestUser, carol: TestUser;
  const clients: HubClient[] = [];
  let database: pg.Pool;

  const connectToB = async (user: TestUser) => {
    const client = new HubClient({ url: hubB.url, token: user.token, forceNew: true, transports: ['websocket'], reconnectionDelayMs: 100 });
    clients.push(client);
    client.connect();
    await client.waitUntilReady();
    return client;
  };
  const get = async (url: string, token: string | null) => {
    const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return response.text();
  };
  const clockOffsetGauge = async (url: string) => Number(/^greenlight_clock_offset_seconds (\S+)$/m.exec(await get(`${url}/metrics`, null))?.[1]);

  beforeAll(async () => {
    await hubA.start();
    const databaseUrl = hubA.databaseUrl ?? '';
    hubB = new HubProcess(['--database-url', databaseUrl, '--policy', hubA.policyPath ?? ''], { GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN, ...shiftedClockEnv(FIVE_MINUTES) });
    await hubB.start();
    database = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    alice = await hubA.createUser('alice', ['requester']);
    bob = await hubA.createUser('bob', ['approver'], ['sre']);
    carol = await hubA.createUser('carol', ['approver'], ['sre']);
  }, 120_000);
  afterAll(async () => {
    for (const client of clients) client.close();
    await hubB?.stop();
    await database?.end();
    await hubA.dispose();
  });

  it('push a request submitted on the hub on time to its approver on the hub 5 minutes ahead, at once', async () => {
    const onB = await connectToB(bob);
    const created = collect<GreenlightRequest>((listen) => onB.on('request:created', listen));
    const submitted = await hubA.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ resource: 'a-to-b' }));
    expect(submitted.status).toBe(201);
    expect((await created.next((request) => request.id === submitted.body.id)).resource).toBe('a-to-b');
  });

  it('push a request submitted on the hub 5 minutes ahead to its approver on the hub on time, at once', async () => {
    const onA = await hubA.connect(carol);
    const created = collect<GreenlightRequest>((listen) => onA.on('request:created', listen));
    const response = await fetch(`${hubB.url}/api/v1/requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(deployRequest({ resource: 'b-to-a' })),
    });
    expect(response.status).toBe(201);
    const submitted = (await response.json()) as GreenlightRequest;
    expect((await created.next((request) => request.id === submitted.id)).resource).toBe('b-to-a');
  });

  it('show how far the hub 5 minutes ahead is off: on /metrics, in the setup status and in its log', async () => {
    expect(Math.abs((await clockOffsetGauge(hubB.url)) - FIVE_MINUTES / 1000)).toBeLessThan(2);
    expect(Math.abs(await clockOffsetGauge(hubA.url))).toBeLessThan(2);

    const setupOnB = JSON.parse(await get(`${hubB.url}/api/v1/setup`, ADMIN_TOKEN)) as SetupStatus;
    expect(setupOnB.cluster?.clockWarning).toContain("This hub's system clock is 5 min ahead of the database's");
    expect(setupOnB.cluster?.clockWarning).toContain('synchronise it (NTP)');
    const setupOnA = (await hubA.api<SetupStatus>('GET', '/api/v1/setup', ADMIN_TOKEN)).body;
    expect(setupOnA.cluster?.clockWarning).toBeNull();
    expect(Math.abs(setupOnA.cluster?.clockAheadSeconds ?? Number.NaN)).toBeLessThan(2);

    expect(hubB.output()).toContain("system clock is 5 min ahead of the database's");
  });

  it("still refuse a message heard already, and one timed over a minute away by the database's clock (the hub 5 minutes ahead's own included)", async () => {
    const listener = await listenToHubs(hubA.databaseUrl ?? '');
    try {
      const onB = await connectToB(bob);
      const created = collect<GreenlightRequest>((listen) => onB.on('request:created', listen));
      const submitted = (await hubA.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ resource: 'captured' }))).body;
      await created.next((request) => request.id === submitted.id);
      const real = listener.payloads.find((payload) => payload.includes('request:event') && payload.includes(submitted.id));
      const captured = JSON.parse(real ?? '{}') as { uid: string; type: number; nsp: string; data: { packet: [string, { event: { request: GreenlightRequest } }] }; auth: object };
      const [, message] = captured.data.packet;
      const about = (id: string) => ({ packet: ['request:event', { ...message, event: { ...message.event, request: { ...message.event.request, id, resource: id } } }] });
      // Signed as the hubs sign, with their key-encryption key, and timed as given.
      const key = Buffer.from(readFileSync(sharedTestKeyFiles().keyEncryptionKeyFile, 'utf8').trim(), 'base64');
      const databaseNow = await readDatabaseTime(database);
      const signedAt = (at: number, id: string) => new PeerSignature(key, () => at).sign({ uid: captured.uid, type: captured.type, nsp: captured.nsp, data: about(id) });

      await sendOnHubChannel(hubA.databaseUrl ?? '', [
        captured,
        signedAt(databaseNow - TWO_MINUTES, 'req_two_minutes_ago'),
        signedAt(databaseNow + TWO_MINUTES, 'req_in_two_minutes'),
        // What hub B's own clock reads: right by B, 5 minutes off by the database.
        signedAt(databaseNow + FIVE_MINUTES, 'req_by_hub_b_clock'),
        // On time: once it has arrived, so would the ones before it have.
        signedAt(databaseNow, 'req_on_time'),
      ]);
      await created.next((request) => request.id === 'req_on_time');
      expect(created.items.map((request) => request.id)).toEqual([submitted.id, 'req_on_time']);
    } finally {
      await listener.close();
    }
  });
});
